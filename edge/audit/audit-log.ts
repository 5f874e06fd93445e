/**
 * The gateway's single writer of the audit trail. Rooms record entries without waiting; the entries are written by the
 * storage writer's flush (a participant of it), in the same transaction as the changes made in the same tick — an
 * alert acknowledged and its `alert.acknowledged` entry commit together or not at all. Recording asks for a commit
 * soon, so an entry is on disk within a tick or two; a route that answers only once the change is durable awaits the
 * writer's `commit()` itself. The chain's end is read inside the transaction, so entries appended meanwhile by another
 * process (the CLI) or another transaction stay one chain, in the order recorded.
 */
import type { Logger } from 'pino';
import type { HealthCheck } from '../core/module.js';
import type { TransactionScope, TransactionStep } from '../storage/database.js';
import type { FlushWriter } from '../storage/write-behind.js';
import type { AuditRecord, JsonObject } from './audit-entry.js';
import { AuditStore } from './audit-store.js';

/** What a room records: `at` is taken from the log's clock when not given. */
export type AuditInput = { actor: string; action: string; subject: string; details?: JsonObject; at?: number };

/** The storage writer, as the audit log uses it: it joins its flush and asks it to commit. */
export type AuditWriter = FlushWriter<AuditRecord[]>;

export type AuditLogOptions = {
  now: () => number;
  log: Logger;
  /** entries waiting for the disk; past it new ones are dropped and counted (the disk has been failing for long) */
  maxPending?: number;
};

/** The record of an input, stamped now unless it says when. */
function auditRecordOf(input: AuditInput, now: () => number): AuditRecord {
  return { at: input.at ?? now(), actor: input.actor, action: input.action, subject: input.subject, details: input.details ?? {} };
}

/** One entry appended inside a transaction someone else holds: the change it describes commits with it. */
export function auditEntryStep(input: AuditInput, now: () => number): TransactionStep {
  return (tx) => AuditStore.appendIn(tx, [auditRecordOf(input, now)]);
}

export class AuditLog {
  private pending: AuditRecord[] = [];
  private stopped = false;
  private written = 0;
  private dropped = 0;
  private readonly maxPending: number;

  constructor(
    private readonly writer: AuditWriter,
    private readonly options: AuditLogOptions,
  ) {
    this.maxPending = options.maxPending ?? 10_000;
    writer.participate({
      name: 'audit',
      pending: () => this.pending.length,
      take: () => (this.pending.length === 0 ? undefined : this.pending.splice(0)),
      write: (tx: TransactionScope, records: AuditRecord[]) => AuditStore.appendIn(tx, records).then(() => undefined),
      restore: (records: AuditRecord[]) => {
        this.pending = records.concat(this.pending);
      },
      committed: (records: AuditRecord[]) => {
        this.written += records.length;
      },
    });
  }

  /** Queues an entry for the next flush and asks for it soon. False when it had to be dropped (queue full or stopped). */
  record(input: AuditInput): boolean {
    if (this.stopped || this.pending.length >= this.maxPending) {
      this.dropped++;
      this.options.log.error(
        { action: input.action, subject: input.subject, dropped: this.dropped, pending: this.pending.length, stopped: this.stopped },
        'audit entry dropped',
      );
      return false;
    }
    this.pending.push(auditRecordOf(input, this.options.now));
    // a failed commit keeps the entry pending; the writer's own flush retries it
    this.writer.commit().catch(() => undefined);
    return true;
  }

  /** Commits everything recorded so far; rejects with the write error (what was not written stays queued, in order). */
  flush(): Promise<void> {
    return this.writer.commit();
  }

  /** Called when the gateway stops (after the rooms that record have stopped): writes what is left. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pending.length === 0) return;
    try {
      await this.writer.commit();
    } catch (error) {
      this.options.log.error({ err: error, pending: this.pending.length }, 'audit entries could not be written before stopping');
      throw error;
    }
  }

  health(): HealthCheck {
    return { ok: true, pending: this.pending.length, written: this.written, dropped: this.dropped };
  }
}
