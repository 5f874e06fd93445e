import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { settledRefresh } from '../../../dashboards/staff/src/settled-refresh.js';

describe('settledRefresh', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());

  it('runs once the changes have been quiet for quietMs', () => {
    const run = vi.fn();
    const refresh = settledRefresh(run, 2_000, 10_000, () => Date.now());
    refresh.changed();
    vi.advanceTimersByTime(1_500);
    refresh.changed();
    vi.advanceTimersByTime(1_999);
    expect(run).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(run).toHaveBeenCalledTimes(1);
  });

  it('a change every second still runs every atMostMs, counted from the first change it waits for', () => {
    const run = vi.fn();
    const refresh = settledRefresh(run, 2_000, 10_000, () => Date.now());
    const runsAt: number[] = [];
    run.mockImplementation(() => runsAt.push(Date.now()));
    for (let second = 0; second < 30; second++) {
      refresh.changed();
      vi.advanceTimersByTime(1_000);
    }
    expect(runsAt).toEqual([10_000, 20_000, 30_000]);
  });

  it('cancel drops what waits', () => {
    const run = vi.fn();
    const refresh = settledRefresh(run, 2_000, 10_000, () => Date.now());
    refresh.changed();
    refresh.cancel();
    vi.advanceTimersByTime(60_000);
    expect(run).not.toHaveBeenCalled();
  });
});
