/**
 * The gateway's single writer of the audit trail. Rooms record entries without waiting (an acknowledge over HTTP must
 * not wait for the disk); the log writes what was recorded in the same tick as one transaction, one transaction at a
 * time, in the order recorded — so the chain stays a chain however many requests arrive at once.
 */
import type { Logger } from 'pino';
import type { HealthCheck } from '../core/module.js';
import type { AuditRecord, JsonObject } from './audit-entry.js';
import type { AuditStore } from './audit-store.js';

/** What a room records: `at` is taken from the log's clock when not given. */
export type AuditInput = { actor: string; action: string; subject: string; details?: JsonObject; at?: number };

export type AuditLogOptions = {
  now: () => number;
  log: Logger;
  /** entries waiting for the disk; past it new ones are dropped and counted (the disk has been failing for long) */
  maxPending?: number;
  /** entries per transaction */
  maxBatch?: number;
  /** wait before trying again after a failed write */
  retryMs?: number;
};

export class AuditLog {
  private pending: AuditRecord[] = [];
  /** the write under way, or done: each write starts after the one before it ended */
  private writing: Promise<void> = Promise.resolve();
  private scheduled: NodeJS.Immediate | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private written = 0;
  private dropped = 0;
  private lastError: Error | undefined;
  private readonly maxPending: number;
  private readonly maxBatch: number;
  private readonly retryMs: number;

  constructor(
    private readonly store: AuditStore,
    private readonly options: AuditLogOptions,
  ) {
    this.maxPending = options.maxPending ?? 10_000;
    this.maxBatch = options.maxBatch ?? 500;
    this.retryMs = options.retryMs ?? 1_000;
  }

  /** Queues an entry; it is written within a tick. False when it had to be dropped (queue full or log stopped). */
  record(input: AuditInput): boolean {
    if (this.stopped || this.pending.length >= this.maxPending) {
      this.dropped++;
      this.options.log.error({ action: input.action, subject: input.subject, dropped: this.dropped, pending: this.pending.length, stopped: this.stopped }, 'audit entry dropped');
      return false;
    }
    this.pending.push({ at: input.at ?? this.options.now(), actor: input.actor, action: input.action, subject: input.subject, details: input.details ?? {} });
    this.schedule();
    return true;
  }

  /** Writes everything recorded so far; rejects with the write error (what was not written stays queued, in order). */
  async flush(): Promise<void> {
    while (this.pending.length > 0) await this.writeBatch();
  }

  /** Called when the gateway stops (after the rooms that record have stopped): writes what is left. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.scheduled) clearImmediate(this.scheduled);
    clearTimeout(this.retryTimer);
    this.scheduled = undefined;
    this.retryTimer = undefined;
    try {
      await this.flush();
    } catch (error) {
      this.options.log.error({ err: error, pending: this.pending.length }, 'audit entries could not be written before stopping');
      throw error;
    }
  }

  health(): HealthCheck {
    return {
      ok: this.lastError === undefined,
      pending: this.pending.length,
      written: this.written,
      dropped: this.dropped,
      ...(this.lastError ? { error: this.lastError.message } : {}),
    };
  }

  private schedule(): void {
    if (this.scheduled || this.retryTimer || this.stopped) return;
    this.scheduled = setImmediate(() => {
      this.scheduled = undefined;
      this.flush().catch(() => this.retryLater());
    });
  }

  private retryLater(): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.flush().catch(() => this.retryLater());
    }, this.retryMs);
    this.retryTimer.unref();
  }

  private writeBatch(): Promise<void> {
    const run = this.writing.then(async () => {
      const batch = this.pending.slice(0, this.maxBatch);
      if (batch.length === 0) return;
      try {
        await this.store.append(batch);
      } catch (error) {
        if (this.lastError === undefined) this.options.log.error({ err: error, pending: this.pending.length }, 'audit entries not written; retrying');
        this.lastError = error as Error;
        throw error;
      }
      // only after the commit, and only from the front: records queued meanwhile stay behind, in order
      this.pending.splice(0, batch.length);
      this.written += batch.length;
      if (this.lastError) this.options.log.info({ written: batch.length }, 'audit entries written again');
      this.lastError = undefined;
    });
    this.writing = run.catch(() => undefined);
    return run;
  }
}
