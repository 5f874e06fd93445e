import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

/**
 * Failed API authentications per client address: past `maxPerMinute` the address's unknown tokens get 429 for a
 * minute, so tokens cannot be guessed at speed. The guard asks only after a token failed to verify: a valid token from
 * a blocked address is still served (a guessing neighbour behind the same NAT cannot lock staff out). Entries expire
 * by themselves; the number of addresses is bounded by the TCP peers that can reach the gateway.
 */
export class AuthFailureLimiter {
  private readonly limiter: RateLimiterMemory;

  constructor(private readonly maxPerMinute: number) {
    this.limiter = new RateLimiterMemory({ points: maxPerMinute, duration: 60, blockDuration: 60 });
  }

  /** Seconds until the address may try again, or 0 when it may now. */
  async blockedFor(address: string): Promise<number> {
    const state = await this.limiter.get(address);
    if (!state || state.consumedPoints < this.maxPerMinute) return 0;
    return Math.max(1, Math.ceil(state.msBeforeNext / 1000));
  }

  async recordFailure(address: string): Promise<void> {
    await this.limiter.consume(address).catch((error: unknown) => {
      // rejects with the limiter's state once the address is over the limit: that is the expected outcome, not an error
      if (!(error instanceof RateLimiterRes)) throw error;
    });
  }
}
