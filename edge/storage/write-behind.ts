import type { Logger } from 'pino';
import type { TransactionScope, SqliteDatabase } from './database.js';

/** What a room persists through the writer: how to write a batch of its values inside the flush transaction. */
export type WriteSet<V> = {
  /** names the set in logs */
  name: string;
  /** writes the values (latest per key, in the order their keys were first changed) inside the one transaction */
  write(tx: TransactionScope, values: V[]): Promise<void>;
  /**
   * Values that may be given up, oldest first, while the disk refuses writes and the pending bound is reached.
   * Sets without it are bounded by their keys (facings of the planogram, registered devices).
   */
  evictable?(value: V): boolean;
};

/** The handle a room gets for one registered set: it puts changed values, latest per key wins. */
export type PendingWrites<V> = { put(key: string, value: V): void };

export type WriteBehindOptions = { flushIntervalMs: number; maxPendingWrites: number };

export type WriterMetrics = {
  flushTimer(): () => void;
  writeFailed(): void;
  pending(count: number): void;
  dropped(): void;
};

export type WriterHealth = { ok: boolean; error?: string; pendingWrites: number; lastFlushAt: number | null };

type RegisteredSet = { set: WriteSet<unknown>; pending: Map<string, unknown> };

/**
 * Write-behind for everything the gateway persists while it runs. Rooms register what they write (`register`) and put
 * changes as they happen; changes are coalesced in memory (latest per key wins) and written every `flushIntervalMs`
 * in one transaction — never one row per reading. When the disk refuses (full, read-only), the changes stay pending
 * and are retried; the live path keeps running and health reports the error. `stop()` writes until nothing is
 * pending, including changes made while a flush was under way.
 */
export class WriteBehindWriter {
  private readonly sets: RegisteredSet[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<boolean> | undefined;
  private lastError: string | undefined;
  private lastFlushAt: number | null = null;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly options: WriteBehindOptions,
    private readonly metrics: WriterMetrics,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Registers a set; sets are written in the order they were registered. */
  register<V>(set: WriteSet<V>): PendingWrites<V> {
    const registered: RegisteredSet = { set: set as WriteSet<unknown>, pending: new Map() };
    this.sets.push(registered);
    return {
      put: (key, value) => {
        registered.pending.delete(key);
        registered.pending.set(key, value);
        if (this.pendingCount() > this.options.maxPendingWrites) this.evictOne();
        this.metrics.pending(this.pendingCount());
      },
    };
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.options.flushIntervalMs);
    this.timer.unref();
  }

  /**
   * Stops the timer and writes until nothing is pending (the caller closes the database afterwards). Returns how many
   * changes it wrote; what it cannot write (the disk refuses) is logged with a count.
   */
  async stop(): Promise<{ written: number; unwritten: number }> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    let written = 0;
    // bounded: every round either empties the queue or fails; a change put during a round is written by the next
    for (let round = 0; round < 10; round++) {
      if (this.inFlight) await this.inFlight;
      const pending = this.pendingCount();
      if (pending === 0) break;
      if (!(await this.flush())) break;
      written += pending;
    }
    const unwritten = this.pendingCount();
    if (unwritten > 0) this.log.error({ unwritten, error: this.lastError }, 'stopping with changes that could not be written');
    return { written, unwritten };
  }

  health(): WriterHealth {
    const health: WriterHealth = { ok: this.lastError === undefined, pendingWrites: this.pendingCount(), lastFlushAt: this.lastFlushAt };
    if (this.lastError !== undefined) health.error = this.lastError;
    return health;
  }

  /** Writes everything pending in one transaction; resolves false if it failed. Concurrent calls share the flush under way. */
  flush(): Promise<boolean> {
    if (this.inFlight) return this.inFlight;
    if (this.pendingCount() === 0) return Promise.resolve(this.lastError === undefined);
    // a closed database writes nothing: the changes stay pending (stop() must not count them as written)
    if (!this.db.isOpen) return Promise.resolve(false);
    this.inFlight = this.writeBatch().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async writeBatch(): Promise<boolean> {
    const batch = this.sets.map((registered) => {
      const values = registered.pending;
      registered.pending = new Map();
      return { registered, values };
    });
    const endTimer = this.metrics.flushTimer();
    try {
      await this.db.transaction(async (tx) => {
        for (const { registered, values } of batch) if (values.size > 0) await registered.set.write(tx, [...values.values()]);
      });
      this.lastFlushAt = this.now();
      if (this.lastError !== undefined) this.log.info({ pendingWrites: this.pendingCount() }, 'storage writes succeed again');
      this.lastError = undefined;
      return true;
    } catch (error) {
      this.metrics.writeFailed();
      const message = (error as Error).message;
      if (this.lastError !== message) this.log.error({ err: error }, 'storage write failed; changes kept in memory and retried');
      this.lastError = message;
      // put the failed batch back under whatever changed since: newer changes of the same key win
      for (const { registered, values } of batch) {
        for (const [key, value] of registered.pending) values.set(key, value);
        registered.pending = values;
      }
      while (this.pendingCount() > this.options.maxPendingWrites && this.evictOne());
      return false;
    } finally {
      endTimer();
      this.metrics.pending(this.pendingCount());
    }
  }

  /** Past the bound, the oldest evictable change is given up and counted. */
  private evictOne(): boolean {
    for (const { set, pending } of this.sets) {
      if (!set.evictable) continue;
      for (const [key, value] of pending) {
        if (set.evictable(value)) {
          pending.delete(key);
          this.metrics.dropped();
          return true;
        }
      }
    }
    return false;
  }

  private pendingCount(): number {
    let count = 0;
    for (const { pending } of this.sets) count += pending.size;
    return count;
  }
}
