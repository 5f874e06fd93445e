/**
 * The backlog's drain-rate cap: a token bucket whose refill waits carry jitter, so a thousand stores that come back at
 * the same moment spread their backlogs over time instead of hitting HQ in lockstep. Pure: time is a parameter.
 */
export type DrainRateOptions = {
  /** events per second; 0 = uncapped */
  ratePerS: number;
  /** events that may go at once after a quiet spell */
  burst: number;
  /** 0..1: each wait for a token is stretched by up to this fraction, at random */
  jitter: number;
};

export class DrainRate {
  private tokens: number;
  private last: number | undefined;

  constructor(
    private readonly options: DrainRateOptions,
    private readonly random: () => number = Math.random,
  ) {
    this.tokens = Math.max(1, options.burst);
  }

  get uncapped(): boolean {
    return this.options.ratePerS <= 0;
  }

  /** Takes up to `wanted` tokens at `now`; returns how many were granted (all of them when uncapped). */
  take(wanted: number, now: number): number {
    if (this.uncapped) return wanted;
    this.refill(now);
    const granted = Math.min(wanted, Math.floor(this.tokens));
    this.tokens -= granted;
    return granted;
  }

  /** Milliseconds until the next token, jittered (0 when one is there or when uncapped). */
  waitMs(now: number): number {
    if (this.uncapped) return 0;
    this.refill(now);
    if (this.tokens >= 1) return 0;
    const exact = ((1 - this.tokens) / this.options.ratePerS) * 1000;
    return Math.ceil(exact * (1 + this.options.jitter * this.random()));
  }

  private refill(now: number): void {
    if (this.last !== undefined && now > this.last) {
      this.tokens = Math.min(Math.max(1, this.options.burst), this.tokens + ((now - this.last) / 1000) * this.options.ratePerS);
    }
    this.last = now;
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
