/**
 * When to send a label's price again after a failure: exponential backoff with jitter, then give up. Pure: the random
 * source is a parameter, so tests (and a resumed campaign) get the same delays from the same numbers.
 *
 * Jitter matters here: an access point that rebooted fails hundreds of labels at the same instant; without jitter they
 * would all be retried in the same radio slot and fail together again.
 */
import { jitteredBackoffMs } from '../core/backoff.js';

export type RetryPolicy = {
  /** sends of one version before the label is failed (the first send counts) */
  maxAttempts: number;
  /** delay before the second attempt; each further attempt doubles it */
  baseDelayMs: number;
  /** the doubling stops here */
  maxDelayMs: number;
  /** 0 … 1: the share of the delay that is random (0.5: between 50 % and 100 % of the backoff) */
  jitterRatio: number;
};

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 2_000, maxDelayMs: 60_000, jitterRatio: 0.5 };

export class RetryPolicyError extends Error {
  constructor(
    readonly field: keyof RetryPolicy,
    readonly value: number,
  ) {
    super(`invalid retry policy: ${field} = ${value}`);
    this.name = 'RetryPolicyError';
  }
}

/** Throws RetryPolicyError naming the first field out of range (called once where a policy is configured). */
export function checkRetryPolicy(policy: RetryPolicy): RetryPolicy {
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) throw new RetryPolicyError('maxAttempts', policy.maxAttempts);
  if (!(policy.baseDelayMs >= 0)) throw new RetryPolicyError('baseDelayMs', policy.baseDelayMs);
  if (!(policy.maxDelayMs >= policy.baseDelayMs)) throw new RetryPolicyError('maxDelayMs', policy.maxDelayMs);
  if (!(policy.jitterRatio >= 0 && policy.jitterRatio <= 1)) throw new RetryPolicyError('jitterRatio', policy.jitterRatio);
  return policy;
}

/** Whether a version that has been sent `attemptsMade` times may be sent again. */
export function mayRetry(policy: RetryPolicy, attemptsMade: number): boolean {
  return attemptsMade < policy.maxAttempts;
}

/**
 * The wait before the next attempt, after `attemptsMade` (≥ 1) failed sends: base × 2^(attemptsMade − 1), capped, of
 * which `jitterRatio` is scaled by `random()` (a number in [0, 1), e.g. Math.random). Whole milliseconds.
 */
export function retryDelayMs(policy: RetryPolicy, attemptsMade: number, random: () => number): number {
  const backoff = { baseMs: policy.baseDelayMs, maxMs: policy.maxDelayMs, factor: 2, jitter: policy.jitterRatio };
  return jitteredBackoffMs(backoff, attemptsMade - 1, random);
}
