/**
 * Per-item staleness watchdog of OPC UA monitored items. A subscription can look healthy (keep-alives arrive) while
 * one of its items has gone quiet — the server dropped it after a restart, its node was re-created, its sampling
 * stalled (node-opcua issues 678, 1059, 1368). Items are monitored with the StatusValueTimestamp trigger, so a device
 * that refreshes a value reports it even when it did not change: silence past `multiple` × the expected interval
 * means the item is broken, and the driver re-creates it. Pure: time is a parameter, no timers here.
 */

export type WatchdogOptions = {
  /** an item silent for this many expected intervals is stale */
  multiple: number;
  /** never stale sooner than this, whatever the interval (a 100 ms item must not be re-created on every hiccup) */
  minSilenceMs: number;
  /** bound of the items watched (the device config bounds it already; this guards a wrong caller) */
  maxItems: number;
};

type Watched = { expectedIntervalMs: number; lastAt: number };

export class ItemWatchdogFullError extends Error {
  constructor(readonly maxItems: number) {
    super(`item watchdog full: at most ${maxItems} items`);
    this.name = 'ItemWatchdogFullError';
  }
}

export class ItemWatchdog {
  private readonly items = new Map<string, Watched>();

  constructor(private readonly options: WatchdogOptions) {}

  /** Starts (or restarts) watching an item from `now`: a freshly created item gets a full period of grace. */
  arm(key: string, expectedIntervalMs: number, now: number): void {
    if (!this.items.has(key) && this.items.size >= this.options.maxItems) throw new ItemWatchdogFullError(this.options.maxItems);
    this.items.set(key, { expectedIntervalMs, lastAt: now });
  }

  /** A notification of the item arrived. Unknown keys are ignored (a late notification of a deleted item). */
  seen(key: string, now: number): void {
    const item = this.items.get(key);
    if (item && now > item.lastAt) item.lastAt = now;
  }

  forget(key: string): void {
    this.items.delete(key);
  }

  /** Stops watching everything (the session is down: silence is expected until it is back). */
  clear(): void {
    this.items.clear();
  }

  get size(): number {
    return this.items.size;
  }

  /** How long an item may stay silent. */
  silenceLimitMs(expectedIntervalMs: number): number {
    return Math.max(this.options.minSilenceMs, expectedIntervalMs * this.options.multiple);
  }

  /**
   * The items silent past their limit at `now`. Each is re-armed from `now`, so a stale item is reported once per
   * period, not on every check, while the caller re-creates it.
   */
  takeStale(now: number): string[] {
    const stale: string[] = [];
    for (const [key, item] of this.items) {
      if (now - item.lastAt < this.silenceLimitMs(item.expectedIntervalMs)) continue;
      stale.push(key);
      item.lastAt = now;
    }
    return stale;
  }
}
