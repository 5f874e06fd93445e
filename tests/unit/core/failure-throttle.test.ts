import { describe, expect, it } from 'vitest';
import { FailureThrottle } from '../../../edge/core/failure-throttle.js';

function throttle(maxFailures: number, maxKeys = 100) {
  const clock = { now: 1_000_000 };
  const t = new FailureThrottle({ maxFailures, windowMs: 60_000, maxKeys }, () => clock.now);
  return { t, clock };
}

describe('FailureThrottle', () => {
  it('blocks a key after maxFailures failures, not before', () => {
    const { t } = throttle(3);
    t.recordFailure('dev-1');
    t.recordFailure('dev-1');
    expect(t.isBlocked('dev-1')).toBe(false);
    t.recordFailure('dev-1');
    expect(t.isBlocked('dev-1')).toBe(true);
    expect(t.isBlocked('dev-2')).toBe(false);
  });

  it('is a sliding window: each failure counts for exactly windowMs', () => {
    const { t, clock } = throttle(2);
    t.recordFailure('dev-1'); // 1_000_000
    clock.now += 30_000;
    t.recordFailure('dev-1'); // 1_030_000
    expect(t.isBlocked('dev-1')).toBe(true);
    clock.now = 1_059_999;
    expect(t.isBlocked('dev-1')).toBe(true);
    clock.now = 1_060_000; // the first failure is exactly a minute old
    expect(t.isBlocked('dev-1')).toBe(false);
    t.recordFailure('dev-1');
    expect(t.isBlocked('dev-1')).toBe(true);
    clock.now = 1_090_000; // the second one expired too
    expect(t.isBlocked('dev-1')).toBe(false);
  });

  it('a success forgets the failures', () => {
    const { t } = throttle(2);
    t.recordFailure('dev-1');
    t.recordFailure('dev-1');
    t.recordSuccess('dev-1');
    expect(t.isBlocked('dev-1')).toBe(false);
    t.recordFailure('dev-1');
    expect(t.isBlocked('dev-1')).toBe(false);
  });

  it('keeps at most maxFailures timestamps per key (a flood does not grow memory)', () => {
    const { t, clock } = throttle(3);
    for (let i = 0; i < 10_000; i++) t.recordFailure('dev-1');
    const failures = (t as unknown as { failures: Map<string, number[]> }).failures;
    expect(failures.get('dev-1')).toHaveLength(3);
    clock.now += 60_000;
    expect(t.isBlocked('dev-1')).toBe(false);
  });

  it('tracks at most maxKeys keys, forgetting the one that failed least recently', () => {
    const { t } = throttle(1, 3);
    for (const id of ['a', 'b', 'c']) t.recordFailure(id);
    t.recordFailure('a'); // a is now the most recent
    t.recordFailure('d'); // evicts b
    const failures = (t as unknown as { failures: Map<string, number[]> }).failures;
    expect([...failures.keys()]).toEqual(['c', 'a', 'd']);
    expect(t.isBlocked('b')).toBe(false);
    expect(t.isBlocked('a')).toBe(true);
    for (let i = 0; i < 1_000; i++) t.recordFailure(`id-${i}`);
    expect(failures.size).toBe(3);
  });

  it('counts attempts being checked (pending) as failures already', () => {
    const { t } = throttle(3);
    t.recordFailure('dev-1');
    expect(t.isBlocked('dev-1', 1)).toBe(false);
    expect(t.isBlocked('dev-1', 2)).toBe(true);
  });

  it('tells how long a key stays blocked: until enough of its failures have aged out', () => {
    const { t, clock } = throttle(2);
    expect(t.msUntilUnblocked('dev-1')).toBe(0);
    t.recordFailure('dev-1'); // 1_000_000
    clock.now += 20_000;
    expect(t.msUntilUnblocked('dev-1')).toBe(0);
    t.recordFailure('dev-1'); // 1_020_000
    clock.now += 10_000;
    expect(t.msUntilUnblocked('dev-1')).toBe(30_000); // the first failure is a minute old at 1_060_000
    clock.now += 30_000;
    expect(t.msUntilUnblocked('dev-1')).toBe(0);
    expect(t.isBlocked('dev-1')).toBe(false);
  });

  it('uses Date.now without an injected clock', () => {
    const t = new FailureThrottle({ maxFailures: 1, windowMs: 60_000, maxKeys: 10 });
    t.recordFailure('x');
    expect(t.isBlocked('x')).toBe(true);
  });
});
