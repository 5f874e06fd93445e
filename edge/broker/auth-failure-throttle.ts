/**
 * Counts failed logins per key (LoginThrottle's: a client address, or an address and a device id) in a sliding minute.
 * Past the limit a CONNECT is refused without hashing the offered secret, so guessing costs the attacker a round trip
 * and costs us nothing. The map is bounded.
 */
export class AuthFailureThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly options: { maxFailuresPerMinute: number; maxTrackedIds: number },
    private readonly now: () => number = Date.now,
  ) {}

  /** `checking`: attempts for this id whose secret is being checked right now — each may be one more failure. */
  isBlocked(id: string, checking = 0): boolean {
    return this.recent(id).length + checking >= this.options.maxFailuresPerMinute;
  }

  recordFailure(id: string): void {
    const times = this.recent(id);
    times.push(this.now());
    this.failures.delete(id);
    if (this.failures.size >= this.options.maxTrackedIds) {
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
    this.failures.set(id, times.slice(-this.options.maxFailuresPerMinute));
  }

  recordSuccess(id: string): void {
    this.failures.delete(id);
  }

  private recent(id: string): number[] {
    const since = this.now() - 60_000;
    return (this.failures.get(id) ?? []).filter((t) => t > since);
  }
}
