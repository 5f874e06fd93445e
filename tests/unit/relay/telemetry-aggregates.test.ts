import { PerformanceObserver, performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { HOUR_MS, HourlyWeightAggregates, hourStartOf } from '../../../edge/relay/telemetry-aggregates.js';

describe('HourlyWeightAggregates', () => {
  it('per facing count, min, max and mean for the hour, then starts from zero', () => {
    const a = new HourlyWeightAggregates(100);
    a.setFacings([
      { shelfId: 's1', facing: 1 },
      { shelfId: 's1', facing: 2 },
      { shelfId: 's2', facing: 1 },
    ]);
    for (const w of [1_000, 900, 1_100, 1_000]) a.record('s1', 1, w);
    a.record('s2', 1, 50);
    const hour = Date.UTC(2026, 11, 1, 4);
    expect(a.takeHour(hour)).toEqual([
      {
        shelfId: 's1',
        hourStart: '2026-12-01T04:00:00.000Z',
        hourEnd: '2026-12-01T05:00:00.000Z',
        facings: [{ facing: 1, count: 4, minWeightG: 900, maxWeightG: 1_100, meanWeightG: 1_000 }],
      },
      {
        shelfId: 's2',
        hourStart: '2026-12-01T04:00:00.000Z',
        hourEnd: '2026-12-01T05:00:00.000Z',
        facings: [{ facing: 1, count: 1, minWeightG: 50, maxWeightG: 50, meanWeightG: 50 }],
      },
    ]);
    expect(a.takeHour(hour + HOUR_MS)).toEqual([]);
    a.record('s1', 2, -3);
    expect(a.takeHour(hour)[0]?.facings).toEqual([{ facing: 2, count: 1, minWeightG: -3, maxWeightG: -3, meanWeightG: -3 }]);
  });

  it('ignores readings of facings not declared, and declares at most maxFacings', () => {
    const a = new HourlyWeightAggregates(2);
    a.setFacings([
      { shelfId: 's1', facing: 1 },
      { shelfId: 's1', facing: 2 },
      { shelfId: 's1', facing: 3 },
    ]);
    expect(a.facings).toBe(2);
    a.record('s1', 3, 1);
    a.record('nope', 1, 1);
    a.record('s1', 99, 1);
    expect(a.ignored).toBe(3);
    expect(a.takeHour(0)).toEqual([]);
  });

  it('records without allocating (the hot path): no garbage collection during 3 million readings', async () => {
    const a = new HourlyWeightAggregates(1_000);
    a.setFacings(Array.from({ length: 600 }, (_, i) => ({ shelfId: `shelf-${Math.floor(i / 6)}`, facing: (i % 6) + 1 })));
    const ids = Array.from({ length: 100 }, (_, i) => `shelf-${i}`);
    const record = (n: number) => {
      for (let i = 0; i < n; i++) a.record(ids[i % 100] as string, (i % 6) + 1, i & 1023);
    };
    record(200_000); // warm up (JIT)
    const gcs: number[] = [];
    const observer = new PerformanceObserver((list) => gcs.push(...list.getEntries().map((e) => e.startTime)));
    observer.observe({ entryTypes: ['gc'] });
    await new Promise((r) => setTimeout(r, 20));
    const from = performance.now();
    record(3_000_000);
    const to = performance.now();
    await new Promise((r) => setTimeout(r, 50));
    observer.disconnect();
    // 3 million readings allocating even 16 bytes each would fill the young generation several times over
    expect(gcs.filter((t) => t >= from && t <= to).length).toBeLessThanOrEqual(1);
    expect(a.takeHour(0).reduce((n, s) => n + s.facings.reduce((m, f) => m + f.count, 0), 0)).toBe(3_200_000);
  });

  it('hourStartOf is the start of the UTC hour', () => {
    expect(hourStartOf(Date.UTC(2026, 0, 1, 13, 59, 59, 999))).toBe(Date.UTC(2026, 0, 1, 13));
    expect(hourStartOf(Date.UTC(2026, 0, 1, 14))).toBe(Date.UTC(2026, 0, 1, 14));
  });
});
