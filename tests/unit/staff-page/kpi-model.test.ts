/** The KPI view's model: tiles in words from GET /api/kpis, and one series per chart (shelf KPIs when present). */
import { describe, expect, it } from 'vitest';
import { DAY_MS, computeKpis } from '../../../edge/kpis/kpi.js';
import { storeDays } from '../../../edge/kpis/store-days.js';
import { daySeries, formatDuration, kpiTiles, valueInWords, type KpisAnswer } from '../../../dashboards/staff/src/views/kpis/kpi-model.js';

const NOW = Date.UTC(2026, 11, 10, 12);
const base: KpisAnswer = computeKpis(
  {
    replenish: [
      { alertId: 'a', openedAt: NOW - DAY_MS - 20 * 60_000, resolvedAt: NOW - DAY_MS },
      { alertId: 'b', openedAt: NOW - 10 * 60_000, resolvedAt: NOW },
    ],
    campaigns: [{ campaignId: 'c1', confirmed: 9, failed: 1, updatedAt: NOW }],
    mismatches: [{ day: '2026-12-09', count: 3 }],
  },
  2 * DAY_MS,
  NOW,
  storeDays('UTC'),
);

describe('KPI model', () => {
  it('writes durations as people read them', () => {
    expect([45_000, 12 * 60_000, 65 * 60_000, 2 * 60 * 60_000, 51 * 60 * 60_000].map(formatDuration)).toEqual([
      '45 s',
      '12 min',
      '1 h 5 min',
      '2 h',
      '2 d 3 h',
    ]);
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(400)).toBe('under 1 s');
  });

  it('makes the four tiles of /api/kpis, and none for shelf KPIs the gateway did not send', () => {
    expect(kpiTiles(base).map((tile) => [tile.id, tile.value, tile.detail])).toEqual([
      ['replenish-mean', '15 min', 'over 2 restocks'],
      ['replenish-p90', '20 min', 'over 2 restocks'],
      ['price-success', '90 %', '9 labels confirmed, 1 failed'],
      ['price-mismatches', '1.5', '3 mismatches in 2 days'],
    ]);
  });

  it('adds the shelf KPIs and their charts when the answer has them', () => {
    const days = base.timeToReplenishPerDay.map((day) => day.day);
    const answer: KpisAnswer = {
      ...base,
      onShelfAvailability: {
        percent: 97.5,
        watchedFacingMinutes: 400,
        emptyFacingMinutes: 10,
        perDay: days.map((day, i) => ({ day, percent: i === 0 ? null : 95, watchedFacingMinutes: 100, emptyFacingMinutes: 5 })),
      },
      stockOuts: {
        count: 1,
        restocked: 1,
        ongoing: 0,
        totalMs: 30 * 60_000,
        meanMs: 30 * 60_000,
        perDay: days.map((day) => ({ day, count: 1, totalMs: 0 })),
      },
    };
    expect(
      kpiTiles(answer)
        .slice(4)
        .map((tile) => [tile.id, tile.value]),
    ).toEqual([
      ['on-shelf', '97.5 %'],
      ['stock-outs', '1'],
    ]);
    const series = daySeries(answer);
    expect(series.map((one) => one.id)).toEqual(['replenish', 'stock-out-rate', 'stock-outs', 'price-success', 'mismatches']);
    expect(series.find((one) => one.id === 'stock-out-rate')?.values).toEqual([null, 5, 5]);
  });

  it('charts every day of the window, a day without data as a gap (not 0) where 0 would be a lie', () => {
    const [replenish, success, mismatches] = daySeries(base);
    expect(replenish?.days).toEqual(['2026-12-08', '2026-12-09', '2026-12-10']);
    expect(replenish?.values).toEqual([null, 20, 10]);
    expect(success?.values).toEqual([null, null, 90]);
    expect(mismatches?.values).toEqual([0, 3, 0]);
    expect(valueInWords(mismatches!, 1)).toBe('1 mismatch');
    expect(valueInWords(replenish!, null)).toBe('no data');
    expect(valueInWords(success!, 90)).toBe('90 %');
  });
});
