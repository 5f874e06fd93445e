import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../edge/alerts/alerts.js';
import {
  computeShelfKpis,
  onShelfAvailability,
  predictionLeadTime,
  predictionSampleOf,
  replenishmentAccuracy,
  stockAlertSampleOf,
  stockOutChange,
  stockOutStats,
  type StockAlertSample,
} from '../../../edge/kpis/shelf-kpis.js';
import { storeDays } from '../../../edge/kpis/store-days.js';

const UTC = storeDays('UTC');
const MIN = 60_000;
const HOUR = 60 * MIN;
/** noon UTC: a 1-hour window stays inside one day */
const T0 = Date.UTC(2026, 11, 1, 11);

const alert = (over: Partial<Alert>): Alert => ({
  id: 'a1',
  kind: 'low-stock',
  key: 'low-stock:shelf-a/1',
  state: 'open',
  severity: 'warning',
  title: 't',
  shelfId: 'shelf-a',
  facing: 1,
  openedAt: T0,
  updatedAt: T0,
  ...over,
});

describe('on-shelf availability', () => {
  it('a facing empty 10 of 60 minutes is 83.3 % available', () => {
    const result = onShelfAvailability(
      {
        watched: [{ shelfId: 'a', facing: 1, since: T0 - HOUR }],
        stockOuts: [{ shelfId: 'a', facing: 1, startedAt: T0 + 20 * MIN, endedAt: T0 + 30 * MIN }],
      },
      T0,
      T0 + HOUR,
      UTC,
    );
    expect(result).toEqual({
      percent: 83.3,
      watchedFacingMinutes: 60,
      emptyFacingMinutes: 10,
      perDay: [{ day: '2026-12-01', percent: 83.3, watchedFacingMinutes: 60, emptyFacingMinutes: 10 }],
    });
  });

  it('counts a facing from when its units were known, an ongoing stock-out until the window ends, and only the window', () => {
    const result = onShelfAvailability(
      {
        watched: [
          { shelfId: 'a', facing: 1, since: T0 },
          { shelfId: 'a', facing: 2, since: T0 + 30 * MIN },
          { shelfId: 'a', facing: 3, since: T0 + 2 * HOUR }, // after the window: no facing-time
        ],
        stockOuts: [
          { shelfId: 'a', facing: 1, startedAt: T0 - 20 * MIN, endedAt: T0 + 5 * MIN }, // 5 of it inside
          { shelfId: 'a', facing: 2, startedAt: T0 + 55 * MIN }, // still empty: 5 min
        ],
      },
      T0,
      T0 + HOUR,
      UTC,
    );
    // 60 + 30 facing-minutes, 10 of them empty: 80 / 90
    expect(result).toMatchObject({ percent: 88.9, watchedFacingMinutes: 90, emptyFacingMinutes: 10 });
  });

  it("splits facing-time and empty time at the store's midnight (here UTC), one entry per day of the window", () => {
    const midnight = Date.UTC(2026, 11, 2);
    const result = onShelfAvailability(
      {
        watched: [{ shelfId: 'a', facing: 1, since: midnight - 2 * HOUR }],
        stockOuts: [{ shelfId: 'a', facing: 1, startedAt: midnight - 30 * MIN, endedAt: midnight + 30 * MIN }],
      },
      midnight - 2 * HOUR,
      midnight + 2 * HOUR,
      UTC,
    );
    expect(result.perDay).toEqual([
      { day: '2026-12-01', percent: 75, watchedFacingMinutes: 120, emptyFacingMinutes: 30 },
      { day: '2026-12-02', percent: 75, watchedFacingMinutes: 120, emptyFacingMinutes: 30 },
    ]);
    expect(result.percent).toBe(75);
  });

  it("splits at the store's midnight, a 25-hour day as long as it is (Berlin, the night the clocks go back)", () => {
    const berlin = storeDays('Europe/Berlin');
    // 2026-10-25 in Berlin runs from 22:00 UTC the day before to 23:00 UTC that day
    const dayStart = Date.UTC(2026, 9, 24, 22);
    const dayEnd = Date.UTC(2026, 9, 25, 23);
    const result = onShelfAvailability(
      {
        watched: [{ shelfId: 'a', facing: 1, since: dayStart - HOUR }],
        stockOuts: [{ shelfId: 'a', facing: 1, startedAt: dayEnd - 30 * MIN, endedAt: dayEnd + 30 * MIN }],
      },
      dayStart - HOUR,
      dayEnd + HOUR,
      berlin,
    );
    expect(result.perDay).toEqual([
      { day: '2026-10-24', percent: 100, watchedFacingMinutes: 60, emptyFacingMinutes: 0 },
      { day: '2026-10-25', percent: 98, watchedFacingMinutes: 25 * 60, emptyFacingMinutes: 30 },
      { day: '2026-10-26', percent: 50, watchedFacingMinutes: 60, emptyFacingMinutes: 30 },
    ]);
    const stockOuts = stockOutStats([{ shelfId: 'a', facing: 1, startedAt: dayStart + 30 * MIN }], dayStart - HOUR, dayEnd - 1, berlin);
    expect(stockOuts.perDay.map((day) => [day.day, day.count])).toEqual([
      ['2026-10-24', 0],
      ['2026-10-25', 1],
    ]);
  });

  it('is null while no facing was watched', () => {
    expect(onShelfAvailability({ watched: [], stockOuts: [] }, T0, T0 + HOUR, UTC)).toMatchObject({
      percent: null,
      watchedFacingMinutes: 0,
    });
  });
});

describe('stock-outs', () => {
  it('counts those begun in the window; the mean is of the restocked, the total runs the ongoing ones until now', () => {
    const result = stockOutStats(
      [
        { shelfId: 'a', facing: 1, startedAt: T0 - 10 * MIN, endedAt: T0 + 5 * MIN }, // began before the window
        { shelfId: 'a', facing: 1, startedAt: T0 + 10 * MIN, endedAt: T0 + 20 * MIN },
        { shelfId: 'a', facing: 2, startedAt: T0 + 15 * MIN, endedAt: T0 + 45 * MIN },
        { shelfId: 'a', facing: 3, startedAt: T0 + 50 * MIN },
      ],
      T0,
      T0 + HOUR,
      UTC,
    );
    expect(result).toEqual({
      count: 3,
      restocked: 2,
      ongoing: 1,
      totalMs: 50 * MIN,
      meanMs: 20 * MIN,
      perDay: [{ day: '2026-12-01', count: 3, totalMs: 50 * MIN }],
    });
  });

  it('begins at 0 units (also a first reading of 0), ends when the units rise; unknown units change nothing', () => {
    const open = { shelfId: 'a', facing: 1, startedAt: T0 };
    expect(stockOutChange(undefined, 0)).toBe('began');
    expect(stockOutChange(undefined, 3)).toBeUndefined();
    expect(stockOutChange(open, 0)).toBeUndefined();
    expect(stockOutChange(open, 1)).toBe('ended');
    expect(stockOutChange(open, null)).toBeUndefined();
  });
});

describe('replenishment accuracy', () => {
  const target = 30 * MIN;
  const now = T0 + 2 * HOUR;
  const samples: StockAlertSample[] = [
    { alertId: 'on-time', openedAt: T0, resolvedAt: T0 + 10 * MIN, restocked: true },
    { alertId: 'exactly-on-target', openedAt: T0 + 5 * MIN, resolvedAt: T0 + 35 * MIN, restocked: true },
    { alertId: 'late', openedAt: T0 + 10 * MIN, resolvedAt: T0 + 55 * MIN, restocked: true },
    { alertId: 'by-hand', openedAt: T0 + 20 * MIN, resolvedAt: T0 + 25 * MIN, restocked: false },
    { alertId: 'open-too-long', openedAt: now - 40 * MIN, restocked: false },
    { alertId: 'pending', openedAt: now - 10 * MIN, restocked: false },
    { alertId: 'before-window', openedAt: T0 - 10 * MIN, resolvedAt: T0 - 5 * MIN, restocked: true },
  ];

  it('restocked within the target / all decided; an open one within the target is pending, not counted', () => {
    const result = replenishmentAccuracy(samples, target, T0, now, now, UTC);
    expect(result).toMatchObject({ targetMs: target, alerts: 5, onTime: 2, pending: 1, percent: 40 });
    expect(result.perDay).toEqual([{ day: '2026-12-01', alerts: 5, onTime: 2, pending: 1, percent: 40 }]);
  });

  it('a longer target judges the same alerts more kindly', () => {
    expect(replenishmentAccuracy(samples, 60 * MIN, T0, now, now, UTC)).toMatchObject({ alerts: 4, onTime: 3, pending: 2, percent: 75 });
  });

  it('samples low-stock alerts when they open and when they resolve (restocked only by the system)', () => {
    const opened = alert({});
    expect(stockAlertSampleOf(opened, undefined)).toEqual({ alertId: 'a1', openedAt: T0, restocked: false });
    const restocked = alert({ state: 'resolved', resolvedAt: T0 + MIN, resolvedBy: 'system', resolution: 'restocked' });
    expect(stockAlertSampleOf(restocked, opened)).toEqual({ alertId: 'a1', openedAt: T0, resolvedAt: T0 + MIN, restocked: true });
    const dismissed = alert({ state: 'resolved', resolvedAt: T0 + MIN, resolvedBy: 'vera', resolution: 'restocked' });
    expect(stockAlertSampleOf(dismissed, opened)).toMatchObject({ restocked: false });
    expect(stockAlertSampleOf(alert({ state: 'acknowledged' }), opened)).toBeUndefined();
    expect(stockAlertSampleOf(alert({ kind: 'sensor-fault' }), undefined)).toBeUndefined();
  });
});

describe('prediction lead time', () => {
  const stockOuts = [
    { shelfId: 'a', facing: 1, startedAt: T0 + 60 * MIN, endedAt: T0 + 70 * MIN },
    { shelfId: 'a', facing: 1, startedAt: T0 + 100 * MIN, endedAt: T0 + 110 * MIN },
    { shelfId: 'a', facing: 2, startedAt: T0 + 200 * MIN },
    { shelfId: 'a', facing: 3, startedAt: T0 + 150 * MIN },
    { shelfId: 'a', facing: 4, startedAt: T0 + 160 * MIN },
  ];
  const predictions = [
    // resolved "ran empty" by the same stock change, a moment before the kpis module saw it
    { alertId: 'p1', shelfId: 'a', facing: 1, openedAt: T0 + 20 * MIN, resolvedAt: T0 + 60 * MIN - 2_000 },
    // resolved by a restock 30 min before the facing's next stock-out: did not precede it
    { alertId: 'p2', shelfId: 'a', facing: 1, openedAt: T0 + 65 * MIN, resolvedAt: T0 + 70 * MIN },
    // still open when the facing emptied
    { alertId: 'p3', shelfId: 'a', facing: 2, openedAt: T0 + 180 * MIN },
    // opened after the stock-out began
    { alertId: 'p4', shelfId: 'a', facing: 3, openedAt: T0 + 151 * MIN },
  ];

  it('the share of stock-outs a prediction preceded, the mean and median of how long before', () => {
    const result = predictionLeadTime({ stockOuts, predictions }, T0, T0 + 4 * HOUR, UTC);
    expect(result).toEqual({
      stockOuts: 5,
      predicted: 2,
      predictedPercent: 40,
      meanMs: 30 * MIN,
      p50Ms: 20 * MIN,
      perDay: [{ day: '2026-12-01', stockOuts: 5, predicted: 2, predictedPercent: 40, meanMs: 30 * MIN }],
    });
  });

  it('samples stock-out-predicted alerts of a facing when they open and resolve', () => {
    const opened = alert({ id: 'p', kind: 'stock-out-predicted', key: 'stock-out-predicted:shelf-a/1' });
    expect(predictionSampleOf(opened, undefined)).toEqual({ alertId: 'p', shelfId: 'shelf-a', facing: 1, openedAt: T0 });
    const resolved = { ...opened, state: 'resolved' as const, resolvedAt: T0 + MIN, resolvedBy: 'system' };
    expect(predictionSampleOf(resolved, opened)).toMatchObject({ resolvedAt: T0 + MIN });
    expect(predictionSampleOf({ ...opened, title: 'u' }, opened)).toBeUndefined();
  });
});

describe('computeShelfKpis', () => {
  it('reads every KPI over the window ending now, with the replenishment target', () => {
    const kpis = computeShelfKpis(
      {
        watched: [{ shelfId: 'a', facing: 1, since: T0 }],
        stockOuts: [{ shelfId: 'a', facing: 1, startedAt: T0 + 20 * MIN, endedAt: T0 + 30 * MIN }],
        stockAlerts: [{ alertId: 'x', openedAt: T0 + 10 * MIN, resolvedAt: T0 + 30 * MIN, restocked: true }],
        predictions: [{ alertId: 'p', shelfId: 'a', facing: 1, openedAt: T0 + 5 * MIN, resolvedAt: T0 + 20 * MIN }],
      },
      30 * MIN,
      HOUR,
      T0 + HOUR,
      UTC,
    );
    expect(kpis.onShelfAvailability.percent).toBe(83.3);
    expect(kpis.stockOuts).toMatchObject({ count: 1, meanMs: 10 * MIN });
    expect(kpis.replenishmentAccuracy).toMatchObject({ targetMs: 30 * MIN, alerts: 1, onTime: 1, percent: 100 });
    expect(kpis.predictionLeadTime).toMatchObject({ stockOuts: 1, predicted: 1, meanMs: 15 * MIN, p50Ms: 15 * MIN });
  });
});
