import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY, RetryPolicyError, checkRetryPolicy, mayRetry, retryDelayMs } from '../../../edge/campaigns/retry-policy.js';

const POLICY = { maxAttempts: 4, baseDelayMs: 1_000, maxDelayMs: 5_000, jitterRatio: 0.5 };

describe('retry policy', () => {
  it('doubles the backoff per attempt up to the cap', () => {
    const noJitter = { ...POLICY, jitterRatio: 0 };
    expect([1, 2, 3, 4, 5, 60, 5_000].map((attempts) => retryDelayMs(noJitter, attempts, () => 0.7))).toEqual([
      1_000, 2_000, 4_000, 5_000, 5_000, 5_000, 5_000,
    ]);
  });

  it('scales the jittered share of the backoff by the random draw', () => {
    expect(retryDelayMs(POLICY, 2, () => 0)).toBe(1_000); // 2 s backoff, half of it random, draw 0
    expect(retryDelayMs(POLICY, 2, () => 0.5)).toBe(1_500);
    expect(retryDelayMs(POLICY, 2, () => 0.999_999)).toBe(2_000);
    expect(retryDelayMs({ ...POLICY, jitterRatio: 1 }, 3, () => 0.25)).toBe(1_000);
    // a random source out of range is clamped rather than trusted
    expect(retryDelayMs(POLICY, 1, () => 7)).toBe(1_000);
    expect(retryDelayMs(POLICY, 1, () => -1)).toBe(500);
  });

  it('allows maxAttempts sends in all', () => {
    expect([1, 2, 3, 4].map((attempts) => mayRetry(POLICY, attempts))).toEqual([true, true, true, false]);
  });

  it('refuses a policy out of range, naming the field', () => {
    expect(checkRetryPolicy(DEFAULT_RETRY_POLICY)).toBe(DEFAULT_RETRY_POLICY);
    expect(() => checkRetryPolicy({ ...POLICY, maxAttempts: 0 })).toThrow(RetryPolicyError);
    expect(() => checkRetryPolicy({ ...POLICY, maxDelayMs: 10 })).toThrow('invalid retry policy: maxDelayMs = 10');
    expect(() => checkRetryPolicy({ ...POLICY, jitterRatio: 1.5 })).toThrow(/jitterRatio/);
  });
});
