/**
 * The backlog's drain-rate cap: a token bucket whose refill waits carry jitter, so a thousand stores that come back at
 * the same moment spread their backlogs over time instead of hitting HQ in lockstep. Pure: time is a parameter.
 */
import { msUntilTokens, takeUpToTokens, tokenBucket, type TokenBucket } from '../core/token-bucket.js';

export type DrainRateOptions = {
  /** events per second; 0 = uncapped */
  ratePerS: number;
  /** events that may go at once after a quiet spell */
  burst: number;
  /** 0..1: each wait for a token is stretched by up to this fraction, at random */
  jitter: number;
};

export class DrainRate {
  /** made at the first call, full: the clock is only known then */
  private bucket: TokenBucket | undefined;

  constructor(
    private readonly options: DrainRateOptions,
    private readonly random: () => number = Math.random,
  ) {}

  get uncapped(): boolean {
    return this.options.ratePerS <= 0;
  }

  /** Takes up to `wanted` tokens at `now`; returns how many were granted (all of them when uncapped). */
  take(wanted: number, now: number): number {
    if (this.uncapped) return wanted;
    return takeUpToTokens(this.bucketAt(now), now, wanted);
  }

  /** Milliseconds until the next token, jittered (0 when one is there or when uncapped). */
  waitMs(now: number): number {
    if (this.uncapped) return 0;
    const exact = msUntilTokens(this.bucketAt(now), now);
    return exact === 0 ? 0 : Math.ceil(exact * (1 + this.options.jitter * this.random()));
  }

  private bucketAt(now: number): TokenBucket {
    // a burst below 1 would never grant a whole token
    this.bucket ??= tokenBucket({ perSecond: this.options.ratePerS, capacity: Math.max(1, this.options.burst) }, now);
    return this.bucket;
  }
}

/** Events per second over a sliding window of whole seconds (bounded: `windowS` buckets). */
export class RateMeter {
  private readonly buckets: number[];
  private lastSecond = 0;

  constructor(private readonly windowS = 10) {
    this.buckets = new Array<number>(windowS).fill(0);
  }

  add(count: number, now: number): void {
    this.advance(now);
    const index = Math.floor(now / 1000) % this.windowS;
    this.buckets[index] = (this.buckets[index] ?? 0) + count;
  }

  /** average over the window's complete seconds plus the current one */
  perSecond(now: number): number {
    this.advance(now);
    const sum = this.buckets.reduce((a, b) => a + b, 0);
    return Math.round((sum / this.windowS) * 10) / 10;
  }

  private advance(now: number): void {
    const second = Math.floor(now / 1000);
    if (second - this.lastSecond >= this.windowS) this.buckets.fill(0);
    else for (let s = this.lastSecond + 1; s <= second; s++) this.buckets[s % this.windowS] = 0;
    if (second > this.lastSecond) this.lastSecond = second;
  }
}
