import { describe, expect, it } from 'vitest';
import { chartPoints, historyKey, historyMinute, historyRow, type HistoryPoint } from '../../../edge/stock/facing-history.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 11, 7, 8, 0, 0);

describe('historyRow', () => {
  const view = (units: number | null, at: number | null) => ({ shelfId: 'shelf-01', facing: 3, units, updatedAt: at });

  it('records a change of units, keyed by facing and minute', () => {
    const row = historyRow(view(7, T0 + 30_000), 8);
    expect(row).toEqual({ shelfId: 'shelf-01', facing: 3, minute: historyMinute(T0), at: T0 + 30_000, units: 7 });
    expect(historyKey(row!)).toBe(`shelf-01/3@${historyMinute(T0)}`);
  });

  it('records the first known units, and nothing when the units did not change or are unknown', () => {
    expect(historyRow(view(5, T0), null)?.units).toBe(5);
    expect(historyRow(view(5, T0), 5)).toBeUndefined();
    expect(historyRow(view(null, null), 5)).toBeUndefined();
  });

  it('changes within one minute share a key (the writer keeps the last), the next minute gets its own', () => {
    const keys = [T0 + 1_000, T0 + 59_999, T0 + MIN].map((at, i) => historyKey(historyRow(view(10 - i, at), 11 - i)!));
    expect(keys[0]).toBe(keys[1]);
    expect(keys[2]).not.toBe(keys[1]);
  });
});

describe('chartPoints', () => {
  const window = { from: T0, to: T0 + 24 * 60 * MIN };

  it('draws the units the facing had before the window at its start, then the points as they are', () => {
    const points = [
      { at: T0 + 5 * MIN, units: 4 },
      { at: T0 + 9 * MIN, units: 0 },
    ];
    expect(chartPoints({ at: T0 - 3 * MIN, units: 6 }, points, window)).toEqual([{ at: T0, units: 6 }, ...points]);
    expect(chartPoints(undefined, [], window)).toEqual([]);
    // a row of the window's first minute from before `from` counts as what the facing held as the window began
    expect(chartPoints({ at: T0 - 9 * MIN, units: 9 }, [{ at: T0 - 10_000, units: 8 }, ...points], window)).toEqual([
      { at: T0, units: 8 },
      ...points,
    ]);
  });

  it('cuts a long series to at most maxPoints, in time order, keeping every span’s lowest and highest', () => {
    // a facing changing every minute for a day, between 10 and 12 units, empty for one minute at 13:37
    const emptyAt = T0 + (5 * 60 + 37) * MIN;
    const points: HistoryPoint[] = [];
    for (let at = T0; at < window.to; at += MIN) points.push({ at, units: at === emptyAt ? 0 : 10 + ((at / MIN) % 3) });
    const chart = chartPoints(undefined, points, window, 500);
    expect(points).toHaveLength(1_440);
    expect(chart.length).toBeLessThanOrEqual(500);
    expect(chart.length).toBeGreaterThan(400);
    expect(chart).toContainEqual({ at: emptyAt, units: 0 });
    expect(chart.map((p) => p.at)).toEqual([...chart.map((p) => p.at)].sort((a, b) => a - b));
    expect(Math.max(...chart.map((p) => p.units))).toBe(12);
  });

  it('keeps a single point per span when the span holds one value', () => {
    const points = Array.from({ length: 40 }, (_, i) => ({ at: T0 + i * MIN, units: 5 }));
    expect(chartPoints(undefined, points, { from: T0, to: T0 + 40 * MIN - 1 }, 20)).toHaveLength(10);
  });
});
