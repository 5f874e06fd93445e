import { describe, expect, it } from 'vitest';
import { LogThrottle } from '../../../edge/core/log-throttle.js';

function throttle(burst: number, maxKeys = 100, windowMs = 60_000) {
  const clock = { now: 0 };
  return { t: new LogThrottle({ burst, windowMs, maxKeys }, () => clock.now), clock };
}

describe('LogThrottle', () => {
  it('lets a burst through per key and window, then suppresses', () => {
    const { t } = throttle(3);
    expect([1, 2, 3, 4, 5, 6].map(() => t.admit('dev-1'))).toEqual([0, 0, 0, -1, -1, -1]);
    expect(t.admit('dev-2')).toBe(0);
  });

  it('the first event of the next window reports how many were suppressed', () => {
    const { t, clock } = throttle(2);
    for (let i = 0; i < 7; i++) t.admit('dev-1'); // 2 logged, 5 suppressed
    clock.now = 59_999;
    expect(t.admit('dev-1')).toBe(-1);
    clock.now = 60_000;
    expect(t.admit('dev-1')).toBe(6);
    expect(t.admit('dev-1')).toBe(0);
    expect(t.admit('dev-1')).toBe(-1);
    clock.now = 120_000;
    expect(t.admit('dev-1')).toBe(1);
  });

  it('a quiet window reports 0 suppressed', () => {
    const { t, clock } = throttle(2);
    t.admit('dev-1');
    clock.now = 1_000_000;
    expect(t.admit('dev-1')).toBe(0);
  });

  it('burst 1 logs one line per window', () => {
    const { t, clock } = throttle(1, 10, 1_000);
    const results: number[] = [];
    for (let ms = 0; ms < 3_000; ms += 100) {
      clock.now = ms;
      results.push(t.admit('k'));
    }
    expect(results.filter((r) => r >= 0)).toEqual([0, 9, 9]);
  });

  it('keeps at most maxKeys keys, forgetting the oldest', () => {
    const { t } = throttle(1, 3);
    for (const key of ['a', 'b', 'c']) t.admit(key);
    t.admit('a'); // suppressed: a keeps its window
    t.admit('d'); // evicts a, the oldest
    const windows = (t as unknown as { windows: Map<string, unknown> }).windows;
    expect([...windows.keys()]).toEqual(['b', 'c', 'd']);
    expect(t.admit('a')).toBe(0); // forgotten: a fresh window
    for (let i = 0; i < 1_000; i++) t.admit(`key-${i}`);
    expect(windows.size).toBe(3);
  });
});
