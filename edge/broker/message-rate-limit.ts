/**
 * The per-device PUBLISH rate limit: a token bucket of `burst` tokens refilled at `messagesPerSecond`. It runs for every
 * PUBLISH, so a check is a few arithmetic operations on the device's own bucket and allocates nothing.
 *
 * A device is *flooding* when it has been over the limit for `disconnectAfterMs` without a pause: drops no more than
 * `FLOOD_PAUSE_MS` apart belong to one flood. A device that sends just above the rate drops a message every so often
 * and keeps flooding; one that bursts now and then and stays under the rate otherwise starts a new flood each time.
 */
export type MessageRatePolicy = { messagesPerSecond: number; burst: number; disconnectAfterMs: number };

/** One device's bucket: allocated when it first logs in, mutated in place by every PUBLISH. */
export type MessageBucket = { tokens: number; refilledAt: number; floodStartedAt: number; lastDropAt: number };

export type RateVerdict = 'accepted' | 'over-limit' | 'flooding';

/** Drops further apart than this end a flood: the device paused, it is not flooding. */
export const FLOOD_PAUSE_MS = 1_000;

/**
 * How long until the bucket holds a token at `now` (0: one is there). A QoS 1 PUBLISH over the limit waits this long
 * instead of being dropped: it has a PUBACK to hold, and holding it paces the device without losing anything.
 */
export function msUntilToken(bucket: MessageBucket, policy: MessageRatePolicy, now: number): number {
  const tokens = Math.min(policy.burst, bucket.tokens + (Math.max(0, now - bucket.refilledAt) * policy.messagesPerSecond) / 1000);
  return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) * 1000) / policy.messagesPerSecond);
}

export function newMessageBucket(policy: MessageRatePolicy, now: number): MessageBucket {
  return { tokens: policy.burst, refilledAt: now, floodStartedAt: 0, lastDropAt: Number.NEGATIVE_INFINITY };
}

/** Takes a token for one PUBLISH at `now`: accepted, over the limit, or over it for so long the device is flooding. */
export function admitMessage(bucket: MessageBucket, policy: MessageRatePolicy, now: number): RateVerdict {
  const elapsedMs = now - bucket.refilledAt;
  if (elapsedMs > 0) {
    bucket.tokens = Math.min(policy.burst, bucket.tokens + (elapsedMs * policy.messagesPerSecond) / 1000);
    bucket.refilledAt = now;
  }
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return 'accepted';
  }
  if (now - bucket.lastDropAt > FLOOD_PAUSE_MS) bucket.floodStartedAt = now;
  bucket.lastDropAt = now;
  return now - bucket.floodStartedAt >= policy.disconnectAfterMs ? 'flooding' : 'over-limit';
}
