/**
 * The relay's durable outbox (`RelayOutbox`, see outbox.ts) in its own SQLite file, `<dataDir>/relay-outbox.db`, with
 * `synchronous=FULL`: a resolved `append` is a promise to a device (its PUBACK) and to HQ, so it must survive power
 * loss, not only a crashed process. The main database keeps NORMAL; the outbox pays for FULL with group commit: appends
 * wait in a bounded queue and are written up to `maxBatch` per transaction, every `flushIntervalMs` or as soon as a
 * batch is full — one fsync for hundreds of events. Deletes of acknowledged rows ride in the same commits.
 *
 * Budgets are enforced in the commit that inserts: per-class row/byte counters live in memory (loaded once at start),
 * so checking never scans; when a class is over, its oldest unleased rows are deleted in the same transaction, counted
 * in `outbox_dropped`, and reported to HQ by a `store.relay.dropped` event (critical) written in that transaction too.
 * Drop reports themselves are never dropped: they are the record of what HQ will never get. They are bounded by
 * `droppedReportIntervalMs` (at most one per interval; drops in between are summed into the next), which is the
 * critical budget's headroom: a day of continuous drops at the default 1 s is ~86,400 reports of ~400 bytes (35 MB).
 *
 * All statements on the outbox's connection go through one serial chain (commits and reads), so a read never sees a
 * commit half done, and a row is leased (read) or dropped, never both.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { SqliteDatabase, type TransactionScope } from '../storage/database.js';
import { cloudEventFactory, relayTypeOf, type CloudEventFactory } from './cloud-event.js';
import type { OutboxConfig } from './outbox-config.js';
import { RELAY_CLASSES, type OutboxRow, type OutboxStats, type RelayClass, type RelayEvent, type RelayOutbox } from './outbox.js';
import {
  addTally,
  addToRate,
  bytesToDrop,
  emptyTally,
  forecastFullInS,
  pickOldest,
  rateAt,
  tallyOf,
  type AppendRate,
  type DropCandidate,
  type DropTally,
} from './relay-budgets.js';

export const OUTBOX_FILE = 'relay-outbox.db';
export const DROPPED_EVENT_TYPE = 'store.relay.dropped';
/** expired rows dropped per commit at most: a long-unreachable HQ's backlog expires over several commits */
const EXPIRY_PAGE = 5_000;
const SCHEMA_VERSION = 1;
/** rows per SELECT/DELETE … IN (…): well under SQLite's bound of variables */
const IN_CHUNK = 500;
/** rows per multi-row INSERT: 7 × 100 variables, well under SQLite's bound */
const INSERT_CHUNK = 100;
/** drop candidates read per page */
const CANDIDATE_PAGE = 512;

/** `append` refused: too many appends wait for a commit (the disk is slower than what arrives). */
export class OutboxBackpressureError extends Error {
  constructor(
    readonly pending: number,
    readonly maxPendingAppends: number,
  ) {
    super(`relay outbox: ${pending} appends wait for a commit (max ${maxPendingAppends}); refusing more`);
    this.name = 'OutboxBackpressureError';
  }
}

export class OutboxClosedError extends Error {
  constructor(readonly state: 'not-started' | 'stopped') {
    super(`relay outbox is ${state === 'stopped' ? 'stopped' : 'not started'}`);
    this.name = 'OutboxClosedError';
  }
}

/** A group commit failed: its appends and removals were not written (rolled back). */
export class OutboxWriteError extends Error {
  constructor(
    readonly appends: number,
    readonly removals: number,
    options: { cause: unknown },
  ) {
    super(
      `relay outbox commit of ${appends} appends and ${removals} removals failed: ` +
        `${(options.cause as Error)?.message ?? String(options.cause)}`,
      options,
    );
    this.name = 'OutboxWriteError';
  }
}

export type OutboxDeps = {
  storeId: string;
  /** the reverse-DNS prefix of event types (cloud-event.ts); rows are filed under the type without it */
  typePrefix?: string;
  newId: () => string;
  now: () => number;
  log: Logger;
};

type PendingAppend = {
  relayClass: RelayClass;
  event: RelayEvent;
  body: string;
  bytes: number;
  createdAt: number;
  resolve: (row: OutboxRow) => void;
  reject: (error: Error) => void;
};

type PendingRemoval = { seqs: readonly number[]; resolve: () => void; reject: (error: Error) => void };

type ClassCounters = {
  rows: number;
  bytes: number;
  /** bytes of drop reports: counted in the budget, never dropped */
  reportBytes: number;
  /** bytes of leased rows that are not drop reports */
  leasedBytes: number;
  oldestCreatedAt: number | null;
  rate: AppendRate;
  dropped: DropTally;
  /** dropped since the last drop report (persisted, so a crash cannot lose them) */
  unreported: DropTally;
};

type Lease = { relayClass: RelayClass; bytes: number; report: boolean };

/** What one commit changed, applied to the in-memory counters only after COMMIT. */
type CommitEffect = {
  rows: OutboxRow[];
  durable: OutboxRow[];
  delta: Record<RelayClass, { rows: number; bytes: number; reportBytes: number; appendedBytes: number }>;
  oldest: Partial<Record<RelayClass, number | null>>;
  dropped: Record<RelayClass, DropTally>;
  goneSeqs: number[];
  reported: boolean;
  nextSeq: number;
};

type DbRow = { seq: number; class: RelayClass; id: string; type: string; created_at: number; body: string };

export class SqliteOutbox implements RelayOutbox {
  readonly path: string;
  private readonly db: SqliteDatabase;
  private readonly newEvent: CloudEventFactory;
  private readonly tauS: number;
  private state: 'new' | 'open' | 'stopped' = 'new';
  private appends: PendingAppend[] = [];
  private removals: PendingRemoval[] = [];
  private nextSeq = 1;
  private readonly counters = {} as Record<RelayClass, ClassCounters>;
  private readonly leases = new Map<number, Lease>();
  private readonly listeners = new Set<(rows: readonly OutboxRow[]) => void>();
  /** the serial chain every statement on this connection runs in */
  private chain: Promise<unknown> = Promise.resolve();
  /** a commit is queued or running */
  private committing = false;
  private flushTimer: NodeJS.Timeout | undefined;
  private reportTimer: NodeJS.Timeout | undefined;
  private lastReportAt = Number.NEGATIVE_INFINITY;
  /** retention: events of a type prefix created before a cutoff, dropped (and accounted) at the next commit */
  private pendingExpiry: { typePrefix: string; cutoff: number } | undefined;
  /** a retention pass that filled its page: the next pass follows right after the commit */
  private expiryContinues: { typePrefix: string; cutoff: number } | undefined;
  /** counts for metrics and tests */
  readonly counts = { commits: 0, committedRows: 0, backpressureRejections: 0, commitFailures: 0, droppedRows: 0, reports: 0 };

  constructor(
    dataDir: string,
    private readonly config: OutboxConfig,
    private readonly deps: OutboxDeps,
  ) {
    this.path = join(dataDir, OUTBOX_FILE);
    this.db = new SqliteDatabase(this.path, { synchronous: 'FULL' });
    this.newEvent = cloudEventFactory(deps);
    this.tauS = config.rateWindowS;
    for (const relayClass of RELAY_CLASSES) {
      this.counters[relayClass] = {
        rows: 0,
        bytes: 0,
        reportBytes: 0,
        leasedBytes: 0,
        oldestCreatedAt: null,
        rate: { bytesPerS: 0, at: 0 },
        dropped: emptyTally(),
        unreported: emptyTally(),
      };
    }
  }

  async start(): Promise<void> {
    await this.db.open();
    try {
      await this.db.exec(`
        CREATE TABLE IF NOT EXISTS outbox (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          class TEXT NOT NULL,
          id TEXT NOT NULL,
          type TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          bytes INTEGER NOT NULL,
          body TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS outbox_class_seq ON outbox (class, seq);
        CREATE TABLE IF NOT EXISTS outbox_dropped (
          class TEXT PRIMARY KEY,
          count INTEGER NOT NULL,
          first_at INTEGER,
          last_at INTEGER,
          unreported_count INTEGER NOT NULL,
          unreported_first_at INTEGER,
          unreported_last_at INTEGER
        );
        PRAGMA user_version = ${SCHEMA_VERSION};
      `);
      await this.load();
    } catch (error) {
      await this.db.close().catch(() => undefined);
      throw error;
    }
    this.state = 'open';
    // drops a crash left unreported go out with the first commit
    if (RELAY_CLASSES.some((c) => this.counters[c].unreported.count > 0)) this.flushSoon();
  }

  private async load(): Promise<void> {
    const now = this.deps.now();
    const sums = await this.db.all<{ class: RelayClass; report: number; rows: number; bytes: number; oldest: number }>(
      `SELECT class, type = ? AS report, COUNT(*) AS rows, SUM(bytes) AS bytes, MIN(created_at) AS oldest
       FROM outbox GROUP BY class, type = ?`,
      [DROPPED_EVENT_TYPE, DROPPED_EVENT_TYPE],
    );
    for (const sum of sums) {
      const counters = this.counters[sum.class];
      if (!counters) continue;
      counters.rows += sum.rows;
      counters.bytes += sum.bytes;
      if (sum.report) counters.reportBytes += sum.bytes;
      counters.oldestCreatedAt = counters.oldestCreatedAt === null ? sum.oldest : Math.min(counters.oldestCreatedAt, sum.oldest);
    }
    for (const relayClass of RELAY_CLASSES) this.counters[relayClass].rate = { bytesPerS: 0, at: now };
    const dropped = await this.db.all<{
      class: RelayClass;
      count: number;
      first_at: number | null;
      last_at: number | null;
      unreported_count: number;
      unreported_first_at: number | null;
      unreported_last_at: number | null;
    }>('SELECT * FROM outbox_dropped');
    for (const row of dropped) {
      const counters = this.counters[row.class];
      if (!counters) continue;
      counters.dropped = { count: row.count, firstAt: row.first_at, lastAt: row.last_at };
      counters.unreported = { count: row.unreported_count, firstAt: row.unreported_first_at, lastAt: row.unreported_last_at };
    }
    // AUTOINCREMENT keeps the highest seq ever used in sqlite_sequence, also after its row is deleted: never reused
    const sequence = await this.db.get<{ seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'");
    const max = await this.db.get<{ seq: number | null }>('SELECT MAX(seq) AS seq FROM outbox');
    this.nextSeq = Math.max(sequence?.seq ?? 0, max?.seq ?? 0) + 1;
  }

  append(event: RelayEvent, relayClass: RelayClass): Promise<OutboxRow> {
    if (this.state !== 'open') return Promise.reject(new OutboxClosedError(this.state === 'new' ? 'not-started' : 'stopped'));
    if (this.appends.length >= this.config.maxPendingAppends) {
      this.counts.backpressureRejections++;
      return Promise.reject(new OutboxBackpressureError(this.appends.length, this.config.maxPendingAppends));
    }
    // serialized once, here: the body is what HQ receives, byte for byte, and what the budget counts
    const body = JSON.stringify(event);
    return new Promise<OutboxRow>((resolve, reject) => {
      this.appends.push({ relayClass, event, body, bytes: Buffer.byteLength(body), createdAt: this.deps.now(), resolve, reject });
      this.kick();
    });
  }

  read(relayClass: RelayClass, afterSeq: number, limit: number, uptoSeq = Number.MAX_SAFE_INTEGER): Promise<OutboxRow[]> {
    if (this.state !== 'open') return Promise.reject(new OutboxClosedError(this.state === 'new' ? 'not-started' : 'stopped'));
    return this.serial(async () => {
      const rows = await this.db.all<DbRow>(
        'SELECT seq, class, id, type, created_at, body FROM outbox WHERE class = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?',
        [relayClass, afterSeq, uptoSeq, Math.max(0, Math.floor(limit))],
      );
      // leased inside the chain: no commit can pick these as drop candidates between the read and the lease
      return rows.map((row) => {
        const out = toRow(row);
        this.lease(out);
        return out;
      });
    });
  }

  remove(seqs: readonly number[]): Promise<void> {
    if (seqs.length === 0) return Promise.resolve();
    if (this.state !== 'open') return Promise.reject(new OutboxClosedError(this.state === 'new' ? 'not-started' : 'stopped'));
    return new Promise<void>((resolve, reject) => {
      this.removals.push({ seqs, resolve, reject });
      this.kick();
    });
  }

  release(seqs: readonly number[]): void {
    for (const seq of seqs) this.unlease(seq);
  }

  /**
   * Retention: events whose type starts with `typePrefix` and that were created before `cutoff` leave the outbox at
   * the next group commit (one that runs now), accounted exactly like budget drops — HQ learns how many it will never
   * get, and from when. Leased rows (in flight to HQ) are left to arrive.
   */
  expire(typePrefix: string, cutoff: number): void {
    this.pendingExpiry = { typePrefix, cutoff };
    if (this.state === 'open') this.flushSoon();
  }

  onDurable(listener: (rows: readonly OutboxRow[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stats(now: number): OutboxStats {
    const perClass = {} as OutboxStats['perClass'];
    for (const relayClass of RELAY_CLASSES) {
      const c = this.counters[relayClass];
      const budgetBytes = budgetOf(this.config, relayClass);
      const appendBytesPerS = rateAt(c.rate, now, this.tauS);
      perClass[relayClass] = {
        rows: c.rows,
        bytes: c.bytes,
        budgetBytes,
        oldestCreatedAt: c.oldestCreatedAt,
        appendBytesPerS,
        forecastFullInS: forecastFullInS(budgetBytes, c.bytes, appendBytesPerS),
        dropped: { ...c.dropped },
      };
    }
    return { perClass, maxSeq: this.nextSeq - 1 };
  }

  /** Appends waiting for their commit. */
  get pendingAppends(): number {
    return this.appends.length;
  }

  /** Writes everything pending, then closes the file. Appends and removals after this are refused. */
  async stop(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'stopped';
    clearTimeout(this.flushTimer);
    clearTimeout(this.reportTimer);
    this.flushTimer = undefined;
    this.reportTimer = undefined;
    while (this.appends.length > 0 || this.removals.length > 0 || this.committing) {
      if (!this.committing) this.flushSoon();
      await this.chain;
    }
    await this.chain;
    await this.db.close();
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const result = this.chain.then(work);
    this.chain = result.catch(() => undefined);
    return result;
  }

  private kick(): void {
    if (this.appends.length >= this.config.maxBatch) {
      this.flushSoon();
    } else if (this.flushTimer === undefined && (this.appends.length > 0 || this.removals.length > 0)) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        this.flushSoon();
      }, this.config.flushIntervalMs);
    }
  }

  /** Starts a group commit now, or right after the one under way. */
  private flushSoon(): void {
    if (this.committing) return;
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.committing = true;
    void this.serial(() => this.commitNext())
      .catch((error: unknown) => this.deps.log.error({ err: error }, 'relay outbox group commit failed unexpectedly'))
      .finally(() => {
        this.committing = false;
        // what arrived during the commit waited already: a full batch goes at once, the rest at the next tick
        if (
          this.appends.length >= this.config.maxBatch ||
          (this.state === 'stopped' && (this.appends.length > 0 || this.removals.length > 0))
        )
          this.flushSoon();
        else this.kick();
      });
  }

  private async commitNext(): Promise<void> {
    const batch = this.appends.splice(0, this.config.maxBatch);
    const removals = this.removals.splice(0);
    const now = this.deps.now();
    const reportDue = this.reportDue(now);
    const expiry = this.pendingExpiry;
    this.pendingExpiry = undefined;
    if (batch.length === 0 && removals.length === 0 && !reportDue && !expiry) return;
    let effect: CommitEffect;
    try {
      effect = await this.db.transaction((tx) => this.write(tx, batch, removals, now, expiry));
    } catch (error) {
      this.pendingExpiry ??= expiry;
      this.counts.commitFailures++;
      const failure = new OutboxWriteError(batch.length, removals.length, { cause: error });
      this.deps.log.error({ err: error, appends: batch.length, removals: removals.length }, 'relay outbox commit failed');
      for (const append of batch) append.reject(failure);
      for (const removal of removals) removal.reject(failure);
      return;
    }
    this.apply(effect, now);
    if (this.expiryContinues) {
      this.pendingExpiry ??= this.expiryContinues;
      this.expiryContinues = undefined;
      setImmediate(() => {
        if (this.state === 'open') this.flushSoon();
      });
    }
    for (let i = 0; i < batch.length; i++) (batch[i] as PendingAppend).resolve(effect.rows[i] as OutboxRow);
    for (const removal of removals) removal.resolve();
    if (effect.durable.length > 0) {
      for (const listener of this.listeners) {
        try {
          listener(effect.durable);
        } catch (error) {
          this.deps.log.error({ err: error }, 'relay outbox durable listener failed');
        }
      }
    }
    this.scheduleReport(now);
  }

  /** The statements of one group commit; returns what changed, applied to memory after COMMIT. */
  private async write(
    tx: TransactionScope,
    batch: readonly PendingAppend[],
    removals: readonly PendingRemoval[],
    now: number,
    expiry?: { typePrefix: string; cutoff: number },
  ): Promise<CommitEffect> {
    let nextSeq = this.nextSeq;
    const delta = {} as CommitEffect['delta'];
    for (const relayClass of RELAY_CLASSES) delta[relayClass] = { rows: 0, bytes: 0, reportBytes: 0, appendedBytes: 0 };
    /** leased bytes of rows removed here: no longer holding back drops in this very commit */
    const unleasedBytes = { critical: 0, operational: 0, telemetry: 0 } as Record<RelayClass, number>;
    const oldest: CommitEffect['oldest'] = {};

    // 1. inserts, seq assigned here so that seqs increase in commit order (the forwarder reads after a cursor)
    const rows: OutboxRow[] = [];
    const params: (string | number)[][] = [];
    const typePrefix = this.deps.typePrefix ?? '';
    for (const append of batch) {
      const type = relayTypeOf(typePrefix, append.event.type);
      const { relayClass, createdAt, body } = append;
      const row: OutboxRow = { seq: nextSeq++, relayClass, id: append.event.id, type, createdAt, body };
      rows.push(row);
      params.push([row.seq, row.relayClass, row.id, row.type, row.createdAt, append.bytes, row.body]);
      const d = delta[append.relayClass];
      d.rows++;
      d.bytes += append.bytes;
      d.appendedBytes += append.bytes;
      if (this.counters[append.relayClass].oldestCreatedAt === null && oldest[append.relayClass] === undefined)
        oldest[append.relayClass] = append.createdAt;
    }
    // many rows per statement: one trip to SQLite's thread per chunk instead of per row (7 variables a row)
    for (let i = 0; i < params.length; i += INSERT_CHUNK) {
      const chunk = params.slice(i, i + INSERT_CHUNK);
      await tx.run(
        `INSERT INTO outbox (seq, class, id, type, created_at, bytes, body) VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
        chunk.flat(),
      );
    }

    // 2. rows HQ acknowledged
    const goneSeqs: number[] = [];
    const touched = new Set<RelayClass>();
    const removeSeqs = removals.flatMap((removal) => removal.seqs);
    for (let i = 0; i < removeSeqs.length; i += IN_CHUNK) {
      const chunk = removeSeqs.slice(i, i + IN_CHUNK);
      const marks = chunk.map(() => '?').join(',');
      const found = await tx.all<{ seq: number; class: RelayClass; bytes: number; type: string }>(
        `SELECT seq, class, bytes, type FROM outbox WHERE seq IN (${marks})`,
        chunk,
      );
      for (const row of found) {
        const d = delta[row.class];
        d.rows--;
        d.bytes -= row.bytes;
        if (row.type === DROPPED_EVENT_TYPE) d.reportBytes -= row.bytes;
        else if (this.leases.has(row.seq)) unleasedBytes[row.class] += this.leases.get(row.seq)?.bytes ?? 0;
        goneSeqs.push(row.seq);
        touched.add(row.class);
      }
      await tx.run(`DELETE FROM outbox WHERE seq IN (${marks})`, chunk);
    }

    // 3. budgets: oldest unleased rows of the classes over budget, lowest class first for the total
    const usage = {} as Record<RelayClass, { bytes: number; droppableBytes: number }>;
    for (const relayClass of RELAY_CLASSES) {
      const c = this.counters[relayClass];
      const d = delta[relayClass];
      const bytes = c.bytes + d.bytes;
      usage[relayClass] = {
        bytes,
        droppableBytes: Math.max(0, bytes - (c.reportBytes + d.reportBytes) - (c.leasedBytes - unleasedBytes[relayClass])),
      };
    }
    const toDrop = bytesToDrop(usage, { perClass: budgetsOf(this.config), totalBytes: this.config.budgets.totalBytes });
    const dropped = {} as Record<RelayClass, DropTally>;
    const droppedSeqs = new Set<number>();
    for (const relayClass of RELAY_CLASSES) {
      dropped[relayClass] = emptyTally();
      const need = toDrop[relayClass];
      if (need <= 0) continue;
      const picked: DropCandidate[] = [];
      let freed = 0;
      let after = 0;
      while (freed < need) {
        const page = await tx.all<DropCandidate>(
          'SELECT seq, bytes, created_at AS createdAt FROM outbox WHERE class = ? AND seq > ? AND type <> ? ORDER BY seq LIMIT ?',
          [relayClass, after, DROPPED_EVENT_TYPE, CANDIDATE_PAGE],
        );
        if (page.length === 0) break;
        freed += pickOldest(page, (seq) => this.leases.has(seq), need - freed, picked);
        after = (page[page.length - 1] as DropCandidate).seq;
      }
      if (picked.length === 0) continue;
      for (let i = 0; i < picked.length; i += IN_CHUNK) {
        const chunk = picked.slice(i, i + IN_CHUNK).map((p) => p.seq);
        await tx.run(`DELETE FROM outbox WHERE seq IN (${chunk.map(() => '?').join(',')})`, chunk);
      }
      for (const p of picked) droppedSeqs.add(p.seq);
      dropped[relayClass] = tallyOf(picked);
      delta[relayClass].rows -= picked.length;
      delta[relayClass].bytes -= freed;
      touched.add(relayClass);
    }

    // 3b. retention: expired events of the given kind, oldest first, at most a page a commit (the rest next time)
    if (expiry) {
      const expired = await tx.all<DropCandidate & { class: RelayClass }>(
        `SELECT seq, class, bytes, created_at AS createdAt FROM outbox
         WHERE created_at < ? AND substr(type, 1, ?) = ? AND type <> ? ORDER BY seq LIMIT ?`,
        [expiry.cutoff, expiry.typePrefix.length, expiry.typePrefix, DROPPED_EVENT_TYPE, EXPIRY_PAGE],
      );
      if (expired.length === EXPIRY_PAGE) this.expiryContinues = expiry;
      const picked = expired.filter((row) => !this.leases.has(row.seq) && !droppedSeqs.has(row.seq));
      for (let i = 0; i < picked.length; i += IN_CHUNK) {
        const chunk = picked.slice(i, i + IN_CHUNK).map((p) => p.seq);
        await tx.run(`DELETE FROM outbox WHERE seq IN (${chunk.map(() => '?').join(',')})`, chunk);
      }
      for (const relayClass of RELAY_CLASSES) {
        const ofClass = picked.filter((row) => row.class === relayClass);
        if (ofClass.length === 0) continue;
        for (const row of ofClass) droppedSeqs.add(row.seq);
        dropped[relayClass] = addTally(dropped[relayClass], tallyOf(ofClass));
        delta[relayClass].rows -= ofClass.length;
        delta[relayClass].bytes -= ofClass.reduce((sum, row) => sum + row.bytes, 0);
        touched.add(relayClass);
      }
    }

    // 4. accounting, in the same transaction as the drops
    const anyDropped = RELAY_CLASSES.some((c) => dropped[c].count > 0);
    const unreported = {} as Record<RelayClass, DropTally>;
    for (const relayClass of RELAY_CLASSES) unreported[relayClass] = addTally(this.counters[relayClass].unreported, dropped[relayClass]);
    let reported = false;
    const durable = rows.filter((row) => !droppedSeqs.has(row.seq));
    if (RELAY_CLASSES.some((c) => unreported[c].count > 0) && now - this.lastReportAt >= this.config.droppedReportIntervalMs) {
      const event = this.newEvent({ type: DROPPED_EVENT_TYPE, subject: 'relay/outbox', data: droppedReportData(unreported) });
      const body = JSON.stringify(event);
      const bytes = Buffer.byteLength(body);
      const report: OutboxRow = { seq: nextSeq++, relayClass: 'critical', id: event.id, type: DROPPED_EVENT_TYPE, createdAt: now, body };
      await tx.run('INSERT INTO outbox (seq, class, id, type, created_at, bytes, body) VALUES (?, ?, ?, ?, ?, ?, ?)', [
        report.seq,
        'critical',
        report.id,
        report.type,
        now,
        bytes,
        body,
      ]);
      const d = delta.critical;
      d.rows++;
      d.bytes += bytes;
      d.reportBytes += bytes;
      d.appendedBytes += bytes;
      if (this.counters.critical.oldestCreatedAt === null && oldest.critical === undefined) oldest.critical = now;
      durable.push(report);
      for (const relayClass of RELAY_CLASSES) unreported[relayClass] = emptyTally();
      reported = true;
    }
    if (anyDropped || reported) {
      await tx.runMany(
        `INSERT OR REPLACE INTO outbox_dropped
           (class, count, first_at, last_at, unreported_count, unreported_first_at, unreported_last_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
        RELAY_CLASSES.map((relayClass) => {
          const total = addTally(this.counters[relayClass].dropped, dropped[relayClass]);
          const open = unreported[relayClass];
          return [relayClass, total.count, total.firstAt, total.lastAt, open.count, open.firstAt, open.lastAt];
        }),
      );
    }

    // 5. the oldest row of every class that lost rows
    for (const relayClass of touched) {
      const first = await tx.get<{ created_at: number }>('SELECT created_at FROM outbox WHERE class = ? ORDER BY seq LIMIT 1', [
        relayClass,
      ]);
      oldest[relayClass] = first?.created_at ?? null;
    }
    return { rows, durable, delta, oldest, dropped, goneSeqs: [...goneSeqs, ...droppedSeqs], reported, nextSeq };
  }

  private apply(effect: CommitEffect, now: number): void {
    this.nextSeq = effect.nextSeq;
    for (const seq of effect.goneSeqs) this.unlease(seq);
    for (const relayClass of RELAY_CLASSES) {
      const c = this.counters[relayClass];
      const d = effect.delta[relayClass];
      c.rows += d.rows;
      c.bytes += d.bytes;
      c.reportBytes += d.reportBytes;
      if (d.appendedBytes > 0) c.rate = addToRate(c.rate, d.appendedBytes, now, this.tauS);
      const oldest = effect.oldest[relayClass];
      if (oldest !== undefined) c.oldestCreatedAt = oldest;
      const dropped = effect.dropped[relayClass];
      c.dropped = addTally(c.dropped, dropped);
      c.unreported = effect.reported ? emptyTally() : addTally(c.unreported, dropped);
      this.counts.droppedRows += dropped.count;
    }
    if (effect.reported) {
      this.lastReportAt = now;
      this.counts.reports++;
    }
    this.counts.commits++;
    this.counts.committedRows += effect.rows.length;
  }

  private reportDue(now: number): boolean {
    return (
      RELAY_CLASSES.some((c) => this.counters[c].unreported.count > 0) && now - this.lastReportAt >= this.config.droppedReportIntervalMs
    );
  }

  /** Drops not yet reported (the interval had not passed) get a commit of their own when it has. */
  private scheduleReport(now: number): void {
    if (this.reportTimer !== undefined || this.state !== 'open') return;
    if (!RELAY_CLASSES.some((c) => this.counters[c].unreported.count > 0)) return;
    const waitMs = Math.max(0, this.lastReportAt + this.config.droppedReportIntervalMs - now);
    this.reportTimer = setTimeout(() => {
      this.reportTimer = undefined;
      if (this.state === 'open') this.flushSoon();
    }, waitMs);
  }

  private lease(row: OutboxRow): void {
    if (this.leases.has(row.seq)) return;
    const report = row.type === DROPPED_EVENT_TYPE;
    const bytes = Buffer.byteLength(row.body);
    this.leases.set(row.seq, { relayClass: row.relayClass, bytes, report });
    if (!report) this.counters[row.relayClass].leasedBytes += bytes;
  }

  private unlease(seq: number): void {
    const lease = this.leases.get(seq);
    if (!lease) return;
    this.leases.delete(seq);
    if (!lease.report) this.counters[lease.relayClass].leasedBytes -= lease.bytes;
  }
}

function toRow(row: DbRow): OutboxRow {
  return { seq: row.seq, relayClass: row.class, id: row.id, type: row.type, createdAt: row.created_at, body: row.body };
}

function budgetOf(config: OutboxConfig, relayClass: RelayClass): number {
  return budgetsOf(config)[relayClass];
}

function budgetsOf(config: OutboxConfig): Record<RelayClass, number> {
  const b = config.budgets;
  return { critical: b.criticalBytes, operational: b.operationalBytes, telemetry: b.telemetryBytes };
}

/** The `data` of a `store.relay.dropped` event: per class, the events dropped since the last report. */
export type DroppedReport = { perClass: Record<RelayClass, { count: number; firstTime: string | null; lastTime: string | null }> };

function droppedReportData(unreported: Record<RelayClass, DropTally>): DroppedReport {
  const perClass = {} as DroppedReport['perClass'];
  for (const relayClass of RELAY_CLASSES) {
    const t = unreported[relayClass];
    perClass[relayClass] = {
      count: t.count,
      firstTime: t.firstAt === null ? null : new Date(t.firstAt).toISOString(),
      lastTime: t.lastAt === null ? null : new Date(t.lastAt).toISOString(),
    };
  }
  return { perClass };
}
