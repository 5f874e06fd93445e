/**
 * The audit trail in SQLite (table audit_log, migration 008): appends chained entries, pages through them for
 * `audit verify` and `audit export`. Never updates or deletes (the table's triggers refuse it anyway).
 */
import type { SqliteDatabase, TransactionScope } from '../storage/database.js';
import {
  canonicalJson,
  chainEntries,
  checkLink,
  type AuditEntry,
  type AuditRecord,
  type ChainBreak,
  type ChainHead,
  type JsonObject,
} from './audit-entry.js';

type AuditRow = {
  seq: number;
  at: number;
  actor: string;
  action: string;
  subject: string;
  details: string;
  prev_hash: string;
  hash: string;
};

const INSERT = 'INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)';

/** What `verify` found: every entry links (count, last seq and hash), or the first break. */
export type AuditVerification =
  { ok: true; count: number; head: ChainHead | undefined } | { ok: false; checked: number; broken: ChainBreak };

export class AuditStore {
  constructor(private readonly db: SqliteDatabase) {}

  /**
   * Appends records, in order, in one transaction, chained to the last stored entry. The chain's end is read inside
   * the transaction (BEGIN IMMEDIATE holds SQLite's write lock), never taken from memory: the gateway and a CLI
   * process appending at once queue on the lock and each links to what the other committed, and a crash loses at most
   * the uncommitted batch, never a link.
   */
  async append(records: readonly AuditRecord[]): Promise<AuditEntry[]> {
    if (records.length === 0) return [];
    return this.db.transaction((tx) => AuditStore.appendIn(tx, records));
  }

  /**
   * Appends inside a transaction someone else holds: the change the entries describe commits with them, or neither
   * does (the gateway's flush writes alert changes, campaigns and their entries in one transaction).
   */
  static async appendIn(tx: TransactionScope, records: readonly AuditRecord[]): Promise<AuditEntry[]> {
    if (records.length === 0) return [];
    const head = await tx.get<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
    const entries = chainEntries(head, records);
    await tx.runMany(
      INSERT,
      entries.map((entry) => [
        entry.seq,
        entry.at,
        entry.actor,
        entry.action,
        entry.subject,
        canonicalJson(entry.details),
        entry.prevHash,
        entry.hash,
      ]),
    );
    return entries;
  }

  async head(): Promise<ChainHead | undefined> {
    return this.db.get<ChainHead>('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
  }

  /**
   * The entries in seq order, a page at a time (a trail of years does not fit in memory at once). `details` that is
   * no longer JSON (someone edited the file) comes back as a string, so verify reports it as a hash mismatch.
   */
  async *entries(pageSize = 1_000): AsyncGenerator<AuditEntry> {
    // from the lowest possible seq: a row someone renumbered below 1 is still read, and reported
    let afterSeq = Number.MIN_SAFE_INTEGER;
    for (;;) {
      const rows = await this.db.all<AuditRow>(
        'SELECT seq, at, actor, action, subject, details, prev_hash, hash FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?',
        [afterSeq, pageSize],
      );
      for (const row of rows) yield fromRow(row);
      if (rows.length < pageSize) return;
      afterSeq = (rows.at(-1) as AuditRow).seq;
    }
  }

  /** Recomputes the whole chain from the first entry; stops at the first break. */
  async verify(pageSize = 1_000): Promise<AuditVerification> {
    let head: ChainHead | undefined;
    let count = 0;
    for await (const entry of this.entries(pageSize)) {
      const broken = checkLink(head, entry);
      if (broken) return { ok: false, checked: count, broken };
      head = { seq: entry.seq, hash: entry.hash };
      count++;
    }
    return { ok: true, count, head };
  }
}

function fromRow(row: AuditRow): AuditEntry {
  let details: JsonObject;
  try {
    details = JSON.parse(row.details) as JsonObject;
  } catch {
    details = { unparsable: row.details };
  }
  return {
    seq: row.seq,
    at: row.at,
    actor: row.actor,
    action: row.action,
    subject: row.subject,
    details,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
