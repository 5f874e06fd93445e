import { describe, expect, it } from 'vitest';
import { msUntilTokens, refillTokens, takeUpToTokens, tokenBucket, tryTakeTokens } from '../../../edge/core/token-bucket.js';

const RATE = { perSecond: 100, capacity: 50 };

describe('token bucket', () => {
  it('starts full unless told otherwise, and refills at perSecond up to the capacity', () => {
    expect(tokenBucket(RATE, 7)).toEqual({ capacity: 50, perSecond: 100, tokens: 50, refilledAt: 7 });
    const bucket = tokenBucket(RATE, 0, 0);
    expect(refillTokens(bucket, 250)).toBe(25);
    expect(bucket).toMatchObject({ tokens: 25, refilledAt: 250 });
    expect(refillTokens(bucket, 10_250)).toBe(50);
  });

  it('a clock that stepped back adds nothing and counts from the new time', () => {
    const bucket = tokenBucket(RATE, 100, 5);
    expect(refillTokens(bucket, 50)).toBe(5);
    expect(bucket.refilledAt).toBe(50);
    expect(refillTokens(bucket, 60)).toBe(6);
  });

  it('tryTakeTokens takes all it asks for or nothing', () => {
    const bucket = tokenBucket({ perSecond: 100, capacity: 3 }, 0);
    expect([1, 2, 3, 4].map(() => tryTakeTokens(bucket, 0))).toEqual([true, true, true, false]);
    expect(tryTakeTokens(bucket, 9)).toBe(false); // 0.9 of a token
    expect(tryTakeTokens(bucket, 10)).toBe(true);
    expect(tryTakeTokens(bucket, 30, 3)).toBe(false);
    expect(bucket.tokens).toBeCloseTo(2, 9);
    expect(tryTakeTokens(bucket, 30, 2)).toBe(true);
  });

  it('takeUpToTokens grants whole tokens only, never more than wanted or held', () => {
    const bucket = tokenBucket({ perSecond: 10, capacity: 10 }, 0);
    expect(takeUpToTokens(bucket, 0, 4)).toBe(4);
    expect(takeUpToTokens(bucket, 0, 100)).toBe(6);
    expect(takeUpToTokens(bucket, 150, 100)).toBe(1); // 1.5 tokens: one whole
    expect(bucket.tokens).toBeCloseTo(0.5, 9);
    expect(takeUpToTokens(bucket, 150, 0)).toBe(0);
  });

  it('sustains exactly the rate over time after the burst', () => {
    const bucket = tokenBucket({ perSecond: 100, capacity: 10 }, 0);
    let granted = 0;
    for (let t = 0; t <= 10_000; t += 7) granted += takeUpToTokens(bucket, t, 1_000);
    // the burst of 10, then 100/s over the 9.996 s of the loop (the last fraction of a token is not granted)
    expect(granted).toBe(10 + 999);
  });

  it('msUntilTokens tells the wait without taking anything', () => {
    const bucket = tokenBucket({ perSecond: 100, capacity: 2 }, 0);
    expect(msUntilTokens(bucket, 0)).toBe(0);
    takeUpToTokens(bucket, 0, 2);
    expect(msUntilTokens(bucket, 0)).toBe(10);
    expect(msUntilTokens(bucket, 4)).toBeCloseTo(6, 9);
    expect(msUntilTokens(bucket, 4, 2)).toBeCloseTo(16, 9);
    expect(bucket).toMatchObject({ tokens: 0, refilledAt: 0 });
    expect(msUntilTokens(bucket, 10)).toBe(0);
    expect(msUntilTokens(bucket, 10, 3)).toBe(Number.POSITIVE_INFINITY); // more than it can ever hold
    expect(msUntilTokens(tokenBucket({ perSecond: 0, capacity: 1 }, 0, 0), 1_000)).toBe(Number.POSITIVE_INFINITY);
  });
});
