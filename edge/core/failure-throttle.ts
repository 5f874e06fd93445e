/**
 * Failures counted per key (a client address, an address and a device id) in a sliding window: the one way the
 * gateway slows down guessing, used by the MQTT login throttle and the HTTP API's token check. Past `maxFailures`
 * within `windowMs` the key is blocked, and the caller refuses without doing the expensive check (hashing a secret).
 *
 * Not rate-limiter-flexible's RateLimiterMemory (the API used it until issue 25): its memory store is an unbounded Map with
 * one timer per key (an attacker spraying source addresses grows it at will), its window is fixed from the first
 * failure rather than sliding, its clock is Date.now (tests here drive time), and its answers are promises (the login
 * path checks and marks an attempt in one synchronous step, so concurrent guesses cannot slip past the limit).
 *
 * Bounded: at most `maxKeys` keys (past it the key that failed least recently is forgotten) and `maxFailures` times
 * per key. State lives in memory: a restart forgets every key, so a lockout never outlives the process.
 */
export type FailureThrottleOptions = {
  /** failures within the window that block a key */
  maxFailures: number;
  /** how long one failure counts: each counts for exactly this long */
  windowMs: number;
  /** keys tracked at most */
  maxKeys: number;
};

export class FailureThrottle {
  /** key → times of its latest failures (oldest first, at most maxFailures); the key that failed least recently first */
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly options: FailureThrottleOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** `pending`: attempts for this key being checked right now — each may be one more failure. */
  isBlocked(key: string, pending = 0): boolean {
    return this.recent(key).length + pending >= this.options.maxFailures;
  }

  /** Milliseconds until `key` is no longer blocked by its failures (0: it is not blocked). */
  msUntilUnblocked(key: string): number {
    const times = this.recent(key);
    const excess = times.length - this.options.maxFailures;
    if (excess < 0) return 0;
    // free again once `excess + 1` of its failures have aged out; they age out oldest first
    const freeingAt = times[excess];
    return freeingAt === undefined ? this.options.windowMs : freeingAt + this.options.windowMs - this.now();
  }

  recordFailure(key: string): void {
    const times = this.recent(key);
    times.push(this.now());
    // re-inserted at the end: the map's order is the order of the latest failure, so eviction takes the stalest key
    this.failures.delete(key);
    if (this.failures.size >= this.options.maxKeys) {
      const stalest = this.failures.keys().next().value;
      if (stalest !== undefined) this.failures.delete(stalest);
    }
    this.failures.set(key, times.slice(-this.options.maxFailures));
  }

  /** The key's failures are forgotten (it proved it knows the secret). */
  recordSuccess(key: string): void {
    this.failures.delete(key);
  }

  private recent(key: string): number[] {
    const since = this.now() - this.options.windowMs;
    return (this.failures.get(key) ?? []).filter((t) => t > since);
  }
}
