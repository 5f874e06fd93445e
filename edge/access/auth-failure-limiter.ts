import { FailureThrottle } from '../core/failure-throttle.js';
import type { AuthFailures } from '../http/auth.js';

/** Addresses tracked at most (past it the one that failed least recently is forgotten), as for MQTT logins. */
const MAX_TRACKED_ADDRESSES = 10_000;

/**
 * Failed API authentications per client address: past `maxPerMinute` in a sliding minute the address's unknown tokens
 * get 429 until enough of its failures are a minute old, so tokens cannot be guessed at speed. The guard asks only after
 * a token failed to verify: a valid token from a blocked address is still served (a guessing neighbour behind the same
 * NAT cannot lock staff out). The shared FailureThrottle counts (core/failure-throttle.ts says why not
 * rate-limiter-flexible); the guard's interface is a promise so a shared store could stand behind it.
 */
export class AuthFailureLimiter implements AuthFailures {
  private readonly throttle: FailureThrottle;

  constructor(maxPerMinute: number, now: () => number = Date.now) {
    this.throttle = new FailureThrottle({ maxFailures: maxPerMinute, windowMs: 60_000, maxKeys: MAX_TRACKED_ADDRESSES }, now);
  }

  /** Seconds until the address may try again, or 0 when it may now. */
  blockedFor(address: string): Promise<number> {
    const waitMs = this.throttle.msUntilUnblocked(address);
    return Promise.resolve(waitMs > 0 ? Math.max(1, Math.ceil(waitMs / 1000)) : 0);
  }

  recordFailure(address: string): Promise<void> {
    this.throttle.recordFailure(address);
    return Promise.resolve();
  }
}
