import { msUntilTokens, tryTakeTokens, type TokenBucket } from '../core/token-bucket.js';

/**
 * The per-device PUBLISH rate limit: a token bucket (core/token-bucket.ts) of `burst` tokens refilled at
 * `messagesPerSecond`. It runs for every PUBLISH, so a check is a few arithmetic operations on the device's own bucket
 * and allocates nothing.
 *
 * A device is *flooding* when it has been over the limit for `disconnectAfterMs` without a pause: drops no more than
 * `FLOOD_PAUSE_MS` apart belong to one flood. A device that sends just above the rate drops a message every so often
 * and keeps flooding; one that bursts now and then and stays under the rate otherwise starts a new flood each time.
 */
export type MessageRatePolicy = { messagesPerSecond: number; burst: number; disconnectAfterMs: number };

/** One device's bucket: allocated when it first logs in (with the policy's rate), mutated in place by every PUBLISH. */
export type MessageBucket = TokenBucket & { floodStartedAt: number; lastDropAt: number };

export type RateVerdict = 'accepted' | 'over-limit' | 'flooding';

/** Drops further apart than this end a flood: the device paused, it is not flooding. */
export const FLOOD_PAUSE_MS = 1_000;

/**
 * How long until the bucket holds a token at `now` (0: one is there), whole ms. A QoS 1 PUBLISH over the limit waits
 * this long instead of being dropped: it has a PUBACK to hold, and holding it paces the device without losing anything.
 */
export function msUntilToken(bucket: MessageBucket, now: number): number {
  return Math.ceil(msUntilTokens(bucket, now));
}

export function newMessageBucket(policy: MessageRatePolicy, now: number): MessageBucket {
  // one literal with every field, so all buckets share one shape
  return {
    capacity: policy.burst,
    perSecond: policy.messagesPerSecond,
    tokens: policy.burst,
    refilledAt: now,
    floodStartedAt: 0,
    lastDropAt: Number.NEGATIVE_INFINITY,
  };
}

/** Takes a token for one PUBLISH at `now`: accepted, over the limit, or over it for so long the device is flooding. */
export function admitMessage(bucket: MessageBucket, policy: MessageRatePolicy, now: number): RateVerdict {
  if (tryTakeTokens(bucket, now)) return 'accepted';
  if (now - bucket.lastDropAt > FLOOD_PAUSE_MS) bucket.floodStartedAt = now;
  bucket.lastDropAt = now;
  return now - bucket.floodStartedAt >= policy.disconnectAfterMs ? 'flooding' : 'over-limit';
}
