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

/**
 * A room that keeps its own record of what changed (an ordered journal such as the audit trail, a board such as the
 * campaigns') and writes it inside the writer's flush transaction, so its rows commit together with every other change
 * made in the same tick — a state change and its audit entry are never split by a crash.
 */
export type FlushParticipant<T> = {
  /** names it in logs */
  name: string;
  /** how many changes wait (0: nothing to write) */
  pending(): number;
  /** what to write, taken synchronously as the flush begins; undefined when nothing */
  take(): T | undefined;
  /** writes what was taken inside the one transaction */
  write(tx: TransactionScope, taken: T): Promise<void>;
  /** the transaction failed: take it back, ahead of whatever changed since, so it is written again */
  restore(taken: T): void;
  /** the transaction committed */
  committed?(taken: T): void;
};

/** The writer as a participant's owner sees it: it joins the flush and asks for commits. */
export type FlushWriter<T> = { participate(participant: FlushParticipant<T>): void; commit(): Promise<void> };

/** A caller of `commit()` waiting for its changes to be on disk. */
type CommitWaiter = { resolve(): void; reject(error: Error): void };

export type WriteBehindOptions = { flushIntervalMs: number; maxPendingWrites: number };

export type WriterMetrics = {
  flushTimer(): () => void;
  writeFailed(): void;
  pending(count: number): void;
  dropped(): void;
};

export type WriterHealth = { ok: boolean; error?: string; pendingWrites: number; lastFlushAt: number | null };

type RegisteredSet = { set: WriteSet<unknown>; pending: Map<string, unknown> };

/** Commit waiters held at once; past it `commit()` is refused (a disk that has refused writes for long) */
const MAX_COMMIT_WAITERS = 100_000;

export class CommitRefusedError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'CommitRefusedError';
  }
}

/**
 * Write-behind for everything the gateway persists while it runs. Rooms register what they write (`register`) and put
 * changes as they happen; changes are coalesced in memory (latest per key wins) and written every `flushIntervalMs`
 * in one transaction — never one row per reading. When the disk refuses (full, read-only), the changes stay pending
 * and are retried; the live path keeps running and health reports the error. `stop()` writes until nothing is
 * pending, including changes made while a flush was under way.
 *
 * `commit()` is the durable path for what the gateway acknowledges (an HTTP 2xx, a PUBACK): it resolves once a
 * transaction holding every change put before the call has committed. Commits are grouped: callers that arrive while a
 * flush is under way share the next one, so a burst of acknowledgements costs one transaction, not one each.
 */
export class WriteBehindWriter {
  private readonly sets: RegisteredSet[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<boolean> | undefined;
  private lastError: string | undefined;
  /** the storage error behind lastError (a route tells a full disk from other failures by it) */
  private lastCause: unknown;
  private lastFlushAt: number | null = null;
  /** changes taken by the flush under way: not pending any more, not on disk yet (health counts them as unwritten) */
  private inFlightChanges = 0;
  private readonly participants: FlushParticipant<unknown>[] = [];
  /** callers whose changes are not on disk yet: the next flush that starts takes them */
  private waiters: CommitWaiter[] = [];
  private commitScheduled: NodeJS.Immediate | undefined;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly options: WriteBehindOptions,
    private readonly metrics: WriterMetrics,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Registers a set; sets are written in the order they were registered. */
  register<V>(set: WriteSet<V>): PendingWrites<V> {
    const registered: RegisteredSet = { set, pending: new Map() };
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

  /** Registers a participant; it writes after the sets, in the order participants were registered. */
  participate<T>(participant: FlushParticipant<T>): void {
    this.participants.push(participant);
  }

  /**
   * Resolves once every change put (and every participant change made) before this call is committed; rejects with
   * the storage error if the transaction fails (the changes stay pending and are retried, as any write-behind change).
   */
  commit(): Promise<void> {
    if (this.waiters.length >= MAX_COMMIT_WAITERS)
      return Promise.reject(new CommitRefusedError(`${this.waiters.length} commits are waiting for the disk already`));
    if (!this.db.isOpen) return Promise.reject(new CommitRefusedError('the database is closed'));
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.scheduleCommit();
    });
  }

  /** Flushes after the current tick: what the same tick put (a state change and its audit entry) goes together. */
  private scheduleCommit(): void {
    if (this.commitScheduled || this.inFlight) return; // a flush under way starts the next one when it ends
    this.commitScheduled = setImmediate(() => {
      this.commitScheduled = undefined;
      void this.flush();
    });
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
    if (this.commitScheduled) clearImmediate(this.commitScheduled);
    this.commitScheduled = undefined;
    let written = 0;
    // bounded: every round either empties the queue or fails; a change put during a round is written by the next
    for (let round = 0; round < 10; round++) {
      if (this.inFlight) await this.inFlight;
      const pending = this.pendingCount();
      if (!this.hasPending()) break;
      if (!(await this.flush())) break;
      written += pending;
    }
    const unwritten = this.pendingCount() + this.participants.reduce((sum, participant) => sum + participant.pending(), 0);
    if (unwritten > 0) this.log.error({ unwritten, error: this.lastError }, 'stopping with changes that could not be written');
    this.rejectWaiters(this.waiters.splice(0), new CommitRefusedError(`stopping: ${this.lastError ?? 'the database is closing'}`));
    return { written, unwritten };
  }

  health(): WriterHealth {
    // a retry under way holds the changes a failed flush gave back: they are still unwritten
    const pendingWrites = this.pendingCount() + this.inFlightChanges;
    const health: WriterHealth = { ok: this.lastError === undefined, pendingWrites, lastFlushAt: this.lastFlushAt };
    if (this.lastError !== undefined) health.error = this.lastError;
    return health;
  }

  /** Writes everything pending in one transaction; resolves false if it failed. Concurrent calls share the flush under way. */
  flush(): Promise<boolean> {
    if (this.inFlight) return this.inFlight;
    if (!this.hasPending()) {
      // nothing to write: whoever waits for a commit has it already
      this.resolveWaiters(this.waiters.splice(0));
      return Promise.resolve(this.lastError === undefined);
    }
    // a closed database writes nothing: the changes stay pending (stop() must not count them as written)
    if (!this.db.isOpen) {
      this.rejectWaiters(this.waiters.splice(0), new CommitRefusedError('the database is closed'));
      return Promise.resolve(false);
    }
    const waiters = this.waiters.splice(0);
    this.inFlight = this.writeBatch()
      .then((ok) => {
        if (ok) this.resolveWaiters(waiters);
        else
          this.rejectWaiters(waiters, new CommitRefusedError(`storage write failed: ${this.lastError ?? 'unknown error'}`, this.lastCause));
        return ok;
      })
      .finally(() => {
        this.inFlight = undefined;
        // callers that arrived during this flush: their changes may not be in it, so they get the next one
        if (this.waiters.length > 0) this.scheduleCommit();
      });
    return this.inFlight;
  }

  private resolveWaiters(waiters: CommitWaiter[]): void {
    for (const waiter of waiters) waiter.resolve();
  }

  private rejectWaiters(waiters: CommitWaiter[], error: Error): void {
    for (const waiter of waiters) waiter.reject(error);
  }

  private async writeBatch(): Promise<boolean> {
    const batch = this.sets.map((registered) => {
      const values = registered.pending;
      registered.pending = new Map();
      return { registered, values };
    });
    this.inFlightChanges = batch.reduce((sum, { values }) => sum + values.size, 0);
    const taken = this.participants.map((participant) => {
      const count = participant.pending();
      this.inFlightChanges += count;
      return { participant, taken: count > 0 ? participant.take() : undefined };
    });
    const endTimer = this.metrics.flushTimer();
    try {
      await this.db.transaction(async (tx) => {
        for (const { registered, values } of batch) if (values.size > 0) await registered.set.write(tx, [...values.values()]);
        for (const { participant, taken: changes } of taken) if (changes !== undefined) await participant.write(tx, changes);
      });
      this.lastFlushAt = this.now();
      if (this.lastError !== undefined) this.log.info({ pendingWrites: this.pendingCount() }, 'storage writes succeed again');
      this.lastError = undefined;
      this.lastCause = undefined;
      for (const { participant, taken: changes } of taken) if (changes !== undefined) participant.committed?.(changes);
      return true;
    } catch (error) {
      this.lastCause = error;
      // participants take back what they gave, ahead of what they recorded meanwhile
      for (const { participant, taken: changes } of taken) if (changes !== undefined) participant.restore(changes);
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
      this.inFlightChanges = 0;
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

  /** Changes of the keyed sets: what the bound counts (participants bound their own records). */
  private pendingCount(): number {
    let count = 0;
    for (const { pending } of this.sets) count += pending.size;
    return count;
  }

  private hasPending(): boolean {
    return this.pendingCount() > 0 || this.participants.some((participant) => participant.pending() > 0);
  }
}
