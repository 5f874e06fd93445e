/**
 * A token bucket, the one way the gateway caps a rate (a device's PUBLISHes, an access point's radio commands, a
 * campaign's sends per driver, the HQ backlog's drain): `capacity` tokens at most, `perSecond` added as time passes.
 * Pure, time is a parameter, and allocation-free: the broker checks one per PUBLISH (tens of thousands a second), so
 * a bucket is one object mutated in place, carrying its own rate, and every operation is a few arithmetic steps.
 */
export type TokenBucket = {
  /** tokens at most: what may go at once after a quiet spell */
  readonly capacity: number;
  /** tokens added per second */
  readonly perSecond: number;
  /** tokens now, fractional */
  tokens: number;
  /** when (ms, same clock as `now`) the tokens were last counted */
  refilledAt: number;
};

export type TokenRate = { perSecond: number; capacity: number };

/** A bucket holding `tokens` (default: full) at `now`. */
export function tokenBucket(rate: TokenRate, now: number, tokens: number = rate.capacity): TokenBucket {
  return { capacity: rate.capacity, perSecond: rate.perSecond, tokens, refilledAt: now };
}

/**
 * Adds the tokens earned since the last count, up to the capacity; returns the tokens now. A clock that stepped back
 * adds nothing and counts from `now` again (waiting for the old time to come round would starve the bucket).
 */
export function refillTokens(bucket: TokenBucket, now: number): number {
  const elapsedMs = now - bucket.refilledAt;
  if (elapsedMs > 0) bucket.tokens = Math.min(bucket.capacity, bucket.tokens + (elapsedMs * bucket.perSecond) / 1000);
  bucket.refilledAt = now;
  return bucket.tokens;
}

/** Takes `count` tokens at `now` if the bucket holds them (true), or none (false). */
export function tryTakeTokens(bucket: TokenBucket, now: number, count = 1): boolean {
  if (refillTokens(bucket, now) < count) return false;
  bucket.tokens -= count;
  return true;
}

/** Takes as many whole tokens as the bucket holds at `now`, `wanted` at most; returns how many it took. */
export function takeUpToTokens(bucket: TokenBucket, now: number, wanted: number): number {
  const taken = Math.max(0, Math.min(wanted, Math.floor(refillTokens(bucket, now))));
  bucket.tokens -= taken;
  return taken;
}

/**
 * Milliseconds (fractional) from `now` until the bucket holds `count` tokens: 0 when it does already. Takes nothing
 * and changes nothing, so asking is free. Infinity when the bucket never will (no rate, or `count` over the capacity).
 */
export function msUntilTokens(bucket: TokenBucket, now: number, count = 1): number {
  const tokens = Math.min(bucket.capacity, bucket.tokens + (Math.max(0, now - bucket.refilledAt) * bucket.perSecond) / 1000);
  if (tokens >= count) return 0;
  if (count > bucket.capacity || bucket.perSecond <= 0) return Number.POSITIVE_INFINITY;
  return ((count - tokens) * 1000) / bucket.perSecond;
}
