import { describe, expect, it } from 'vitest';
import { DrainRate, RateMeter } from '../../../edge/relay/drain-rate.js';
import { initialLink, linkDown, linkUp, reconnectDelayMs } from '../../../edge/relay/link-state.js';

describe('DrainRate (backlog rate cap)', () => {
  it('lets the burst through, then about ratePerS per second', () => {
    const rate = new DrainRate({ ratePerS: 100, burst: 10, jitter: 0 });
    expect(rate.take(50, 0)).toBe(10);
    let granted = 0;
    for (let t = 10; t <= 1000; t += 10) granted += rate.take(50, t);
    expect(granted).toBe(100);
  });

  it('stretches the wait for the next token by at most the jitter fraction', () => {
    const low = new DrainRate({ ratePerS: 10, burst: 1, jitter: 0.5 }, () => 0);
    const high = new DrainRate({ ratePerS: 10, burst: 1, jitter: 0.5 }, () => 0.999);
    low.take(1, 0);
    high.take(1, 0);
    expect(low.waitMs(0)).toBe(100);
    expect(high.waitMs(0)).toBe(150);
  });

  it('uncapped (0) grants everything and never waits', () => {
    const rate = new DrainRate({ ratePerS: 0, burst: 1, jitter: 0.2 });
    expect(rate.take(5_000, 0)).toBe(5_000);
    expect(rate.waitMs(0)).toBe(0);
  });
});

describe('reconnect backoff', () => {
  it('doubles up to the maximum, each delay between half the ceiling and the ceiling', () => {
    const options = { minMs: 100, maxMs: 1_000 };
    expect(reconnectDelayMs(1, options, () => 0)).toBe(50);
    expect(reconnectDelayMs(1, options, () => 1)).toBe(100);
    expect(reconnectDelayMs(3, options, () => 1)).toBe(400);
    expect(reconnectDelayMs(10, options, () => 1)).toBe(1_000);
    expect(reconnectDelayMs(10, options, () => 0)).toBe(500);
  });
});

describe('link state', () => {
  it('down since the moment it went down, counting attempts until it is up again', () => {
    let link = initialLink(0);
    link = linkUp(link, 10);
    expect(link).toEqual({ up: true, since: 10, attempts: 0, lastError: null });
    link = linkDown(link, 20, 'ECONNRESET');
    link = linkDown(link, 30, 'ECONNREFUSED');
    expect(link).toEqual({ up: false, since: 20, attempts: 2, lastError: 'ECONNREFUSED' });
  });
});

describe('RateMeter', () => {
  it('averages events per second over its window and forgets old seconds', () => {
    const meter = new RateMeter(10);
    for (let s = 0; s < 10; s++) meter.add(50, s * 1000 + 500);
    expect(meter.perSecond(9_900)).toBe(50);
    expect(meter.perSecond(30_000)).toBe(0);
  });
});
