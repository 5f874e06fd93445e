import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../edge/alerts/alerts.js';
import {
  computeKpis,
  DAY_MS,
  durationStats,
  opensPriceMismatch,
  percentile,
  replenishSampleOf,
  successPercent,
} from '../../../edge/kpis/kpi.js';
import { storeDays } from '../../../edge/kpis/store-days.js';

const UTC = storeDays('UTC');
const utcDay = UTC.dayOf;

const low: Alert = {
  id: 'a1',
  kind: 'low-stock',
  key: 'low-stock:shelf-a/1',
  state: 'open',
  severity: 'warning',
  title: 'low',
  shelfId: 'shelf-a',
  facing: 1,
  openedAt: 1_000,
  updatedAt: 1_000,
};
const resolved = (by: string, resolution: string): Alert => ({
  ...low,
  state: 'resolved',
  resolvedAt: 61_000,
  resolvedBy: by,
  resolution,
  updatedAt: 61_000,
});

describe('time to replenish', () => {
  it("a low-stock alert resolved by the system's restock is a sample from open to resolve", () => {
    expect(replenishSampleOf(resolved('system', 'restocked'), low)).toEqual({
      alertId: 'a1',
      shelfId: 'shelf-a',
      facing: 1,
      openedAt: 1_000,
      resolvedAt: 61_000,
    });
  });

  it('resolved by hand, a repeat of a resolved alert, or another kind is no sample', () => {
    expect(replenishSampleOf(resolved('maria', 'restocked'), low)).toBeUndefined();
    expect(replenishSampleOf(resolved('system', 'dismissed'), low)).toBeUndefined();
    expect(replenishSampleOf(resolved('system', 'restocked'), resolved('system', 'restocked'))).toBeUndefined();
    expect(replenishSampleOf({ ...resolved('system', 'restocked'), kind: 'sensor-fault' }, low)).toBeUndefined();
  });

  it('mean and nearest-rank p90', () => {
    const minutes = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((m) => m * 60_000);
    expect(durationStats(minutes)).toEqual({ count: 10, meanMs: 330_000, p90Ms: 540_000 });
    expect(percentile([5], 90)).toBe(5);
    expect(durationStats([])).toEqual({ count: 0, meanMs: null, p90Ms: null });
  });
});

describe('price updates and mismatches', () => {
  it('success % is confirmed / (confirmed + failed), null before any outcome', () => {
    expect(successPercent(9, 1)).toBe(90);
    expect(successPercent(2, 1)).toBe(66.7);
    expect(successPercent(0, 0)).toBeNull();
  });

  it('a price-mismatch alert counts when it opens, not when it changes', () => {
    const mismatch: Alert = { ...low, kind: 'price-mismatch', key: 'price-mismatch:sku:1' };
    expect(opensPriceMismatch(mismatch, undefined)).toBe(true);
    expect(opensPriceMismatch(mismatch, mismatch)).toBe(false);
    expect(opensPriceMismatch(low, undefined)).toBe(false);
  });
});

describe('computeKpis over a window', () => {
  it('keeps only samples, campaigns and days within the window', () => {
    const now = Date.UTC(2026, 11, 10, 12);
    const kpis = computeKpis(
      {
        replenish: [
          { alertId: 'old', openedAt: now - 10 * DAY_MS, resolvedAt: now - 9 * DAY_MS },
          { alertId: 'a', openedAt: now - 120_000, resolvedAt: now - 60_000 },
          { alertId: 'b', openedAt: now - 400_000, resolvedAt: now - 100_000 },
        ],
        campaigns: [
          { campaignId: 'old', confirmed: 0, failed: 50, updatedAt: now - 8 * DAY_MS },
          { campaignId: 'c1', confirmed: 3, failed: 1, updatedAt: now - 1_000 },
        ],
        mismatches: [
          { day: utcDay(now - 9 * DAY_MS), count: 4 },
          { day: utcDay(now), count: 2 },
          { day: utcDay(now - DAY_MS), count: 1 },
        ],
      },
      7 * DAY_MS,
      now,
      UTC,
    );
    expect(kpis.timeToReplenish).toEqual({ count: 2, meanMs: 180_000, p90Ms: 300_000 });
    expect(kpis.priceUpdates).toEqual({ confirmed: 3, failed: 1, successPercent: 75 });
    expect(kpis.priceMismatchesPerDay).toEqual([
      { day: '2026-12-09', count: 1 },
      { day: '2026-12-10', count: 2 },
    ]);
  });

  it('gives time to replenish and price updates for every store day of the window (here UTC), by the day they were seen', () => {
    const now = Date.UTC(2026, 11, 10, 12);
    const kpis = computeKpis(
      {
        replenish: [
          { alertId: 'a', openedAt: Date.UTC(2026, 11, 8, 9), resolvedAt: Date.UTC(2026, 11, 8, 9, 10) },
          { alertId: 'b', openedAt: Date.UTC(2026, 11, 8, 10), resolvedAt: Date.UTC(2026, 11, 8, 10, 30) },
          // opened the day before, restocked after midnight: the day it was restocked
          { alertId: 'c', openedAt: Date.UTC(2026, 11, 9, 23, 50), resolvedAt: Date.UTC(2026, 11, 10, 0, 5) },
        ],
        campaigns: [
          { campaignId: 'c1', confirmed: 9, failed: 1, updatedAt: Date.UTC(2026, 11, 8, 7) },
          { campaignId: 'c2', confirmed: 1, failed: 0, updatedAt: Date.UTC(2026, 11, 8, 8) },
          { campaignId: 'c3', confirmed: 2, failed: 2, updatedAt: Date.UTC(2026, 11, 10, 8) },
        ],
        mismatches: [],
      },
      3 * DAY_MS,
      now,
      UTC,
    );
    expect(kpis.timeToReplenishPerDay).toEqual([
      { day: '2026-12-07', count: 0, meanMs: null, p90Ms: null },
      { day: '2026-12-08', count: 2, meanMs: 20 * 60_000, p90Ms: 30 * 60_000 },
      { day: '2026-12-09', count: 0, meanMs: null, p90Ms: null },
      { day: '2026-12-10', count: 1, meanMs: 15 * 60_000, p90Ms: 15 * 60_000 },
    ]);
    expect(kpis.priceUpdatesPerDay).toEqual([
      { day: '2026-12-07', confirmed: 0, failed: 0, successPercent: null },
      { day: '2026-12-08', confirmed: 10, failed: 1, successPercent: 90.9 },
      { day: '2026-12-09', confirmed: 0, failed: 0, successPercent: null },
      { day: '2026-12-10', confirmed: 2, failed: 2, successPercent: 50 },
    ]);
    // the whole window is the sum of its days
    expect(kpis.timeToReplenish.count).toBe(3);
    expect(kpis.priceUpdates).toEqual({ confirmed: 12, failed: 3, successPercent: 80 });
  });

  it("counts a sample on the store's day, not the UTC day: a Chicago restock at 20:00 is that evening's", () => {
    const now = Date.UTC(2026, 11, 10, 12);
    const data = {
      // 02:00 UTC on the 10th is 20:00 on the 9th in Chicago (UTC-6)
      replenish: [{ alertId: 'a', openedAt: Date.UTC(2026, 11, 10, 1), resolvedAt: Date.UTC(2026, 11, 10, 2) }],
      campaigns: [{ campaignId: 'c1', confirmed: 4, failed: 0, updatedAt: Date.UTC(2026, 11, 10, 2) }],
      mismatches: [],
    };
    const chicago = computeKpis(data, 2 * DAY_MS, now, storeDays('America/Chicago'));
    expect(chicago.timeToReplenishPerDay.map((day) => [day.day, day.count])).toEqual([
      ['2026-12-08', 0],
      ['2026-12-09', 1],
      ['2026-12-10', 0],
    ]);
    expect(chicago.priceUpdatesPerDay.find((day) => day.confirmed > 0)?.day).toBe('2026-12-09');
    expect(computeKpis(data, 2 * DAY_MS, now, UTC).timeToReplenishPerDay.find((day) => day.count > 0)?.day).toBe('2026-12-10');
  });
});
