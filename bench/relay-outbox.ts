/**
 * Benchmark (issue 15, a) — the relay's durable outbox against single-row commits on the same disk. Both write the
 * same CloudEvents (a kiosk event, ~350 bytes) to a SQLite file in WAL mode with synchronous=FULL, in one temp dir:
 *  - outbox: `SqliteOutbox.append` for `events` events, at most `window` awaiting their commit at once (devices publishing
 *    concurrently; the outbox's own bound is 10,000), every append awaited — group commit, up to 500 rows per fsync;
 *  - single-row: the same row insert, each in its own BEGIN IMMEDIATE … COMMIT, awaited one after the other — what an
 *    outbox without group commit does to make every event durable before acknowledging it.
 * The ratio of events/s is the figure (target ≥ 25×).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { cloudEventFactory } from '../edge/relay/cloud-event.js';
import { configDefaults } from '../edge/core/schema-defaults.js';
import { OutboxConfigSchema } from '../edge/relay/outbox-config.js';
import { SqliteOutbox } from '../edge/relay/outbox-store.js';
import type { OutboxRow, RelayEvent } from '../edge/relay/outbox.js';
import { SqliteDatabase } from '../edge/storage/database.js';

export type OutboxBenchSettings = {
  /** events appended through the outbox, e.g. 200,000 */
  events: number;
  /** events written one transaction each, e.g. 2,000 (at a few ms per fsync, more only costs time) */
  singleRowEvents: number;
  /** appends awaiting their commit at once; default 5,000 */
  window?: number;
  /** where the files go (default: a temp dir); both runs use the same disk */
  dir?: string;
};

export type OutboxBenchRun = { events: number; elapsedMs: number; eventsPerS: number };

export type OutboxBenchResult = {
  outbox: OutboxBenchRun & { commits: number; rowsPerCommit: number };
  singleRow: OutboxBenchRun;
  /** outbox events/s ÷ single-row events/s */
  ratio: number;
  bodyBytes: number;
};

const GiB = 1024 * 1024 * 1024;

export async function runOutboxBench(
  settings: OutboxBenchSettings,
  progress: (line: string) => void = () => undefined,
): Promise<OutboxBenchResult> {
  const dir = settings.dir ?? (await mkdtemp(join(tmpdir(), 'smartstore-bench-outbox-')));
  const newEvent = cloudEventFactory({ storeId: 'bench-store', newId: randomUUID, now: Date.now });
  const makeEvent = (i: number): RelayEvent =>
    newEvent({
      type: 'store.kiosk.event',
      subject: `kiosk/kiosk-${i % 8}`,
      data: {
        kioskId: `kiosk-${i % 8}`,
        type: 'item-scanned',
        basketId: `b-${i >> 4}`,
        sku: '4000000000017',
        qty: 1,
        priceCents: 189,
        ts: 1_764_560_000_000 + i,
        receivedAt: 1_764_560_000_000 + i,
      },
    });
  try {
    const outbox = await benchOutbox(join(dir, 'outbox'), settings.events, settings.window ?? 5_000, makeEvent);
    progress(`outbox: ${settings.events} events in ${outbox.elapsedMs.toFixed(0)} ms (${outbox.rowsPerCommit.toFixed(0)} rows per commit)`);
    const singleRow = await benchSingleRow(join(dir, 'single', 'single-row.db'), settings.singleRowEvents, makeEvent);
    progress(`single-row commits: ${settings.singleRowEvents} events in ${singleRow.elapsedMs.toFixed(0)} ms`);
    return {
      outbox,
      singleRow,
      ratio: outbox.eventsPerS / singleRow.eventsPerS,
      bodyBytes: Buffer.byteLength(JSON.stringify(makeEvent(0))),
    };
  } finally {
    if (!settings.dir) await rm(dir, { recursive: true, force: true });
  }
}

async function benchOutbox(
  dir: string,
  events: number,
  window: number,
  makeEvent: (i: number) => RelayEvent,
): Promise<OutboxBenchResult['outbox']> {
  const defaults = configDefaults(OutboxConfigSchema);
  const outbox = new SqliteOutbox(
    dir,
    {
      ...defaults,
      maxPendingAppends: Math.max(window, defaults.maxPendingAppends),
      budgets: { criticalBytes: GiB, operationalBytes: GiB, telemetryBytes: GiB, totalBytes: 3 * GiB },
    },
    { storeId: 'bench-store', newId: randomUUID, now: Date.now, log: pino({ level: 'silent' }) },
  );
  await outbox.start();
  try {
    const inFlight = new Array<Promise<OutboxRow>>(window);
    const started = performance.now();
    for (let i = 0; i < events; i++) {
      const slot = i % window;
      if (i >= window) await inFlight[slot];
      inFlight[slot] = outbox.append(makeEvent(i), 'critical');
    }
    await Promise.all(inFlight.slice(0, Math.min(window, events)));
    const elapsedMs = performance.now() - started;
    return {
      events,
      elapsedMs,
      eventsPerS: (events / elapsedMs) * 1000,
      commits: outbox.counts.commits,
      rowsPerCommit: outbox.counts.committedRows / Math.max(1, outbox.counts.commits),
    };
  } finally {
    await outbox.stop();
  }
}

async function benchSingleRow(path: string, events: number, makeEvent: (i: number) => RelayEvent): Promise<OutboxBenchRun> {
  const db = new SqliteDatabase(path, { synchronous: 'FULL' });
  await db.open();
  try {
    await db.exec(
      'CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, class TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL, ' +
        'created_at INTEGER NOT NULL, bytes INTEGER NOT NULL, body TEXT NOT NULL)',
    );
    const started = performance.now();
    for (let i = 0; i < events; i++) {
      const event = makeEvent(i);
      const body = JSON.stringify(event);
      await db.transaction((tx) =>
        tx.run('INSERT INTO outbox (class, id, type, created_at, bytes, body) VALUES (?, ?, ?, ?, ?, ?)', [
          'critical',
          event.id,
          event.type,
          Date.now(),
          Buffer.byteLength(body),
          body,
        ]),
      );
    }
    const elapsedMs = performance.now() - started;
    return { events, elapsedMs, eventsPerS: (events / elapsedMs) * 1000 };
  } finally {
    await db.close();
  }
}
