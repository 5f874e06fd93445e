import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cloudEventFactory } from '../../../edge/relay/cloud-event.js';
import { configDefaults } from '../../../edge/core/schema-defaults.js';
import { OutboxConfigSchema, type OutboxConfig } from '../../../edge/relay/outbox-config.js';

const OUTBOX_DEFAULTS = configDefaults(OutboxConfigSchema);
import {
  DROPPED_EVENT_TYPE,
  OutboxBackpressureError,
  OutboxClosedError,
  SqliteOutbox,
  type DroppedReport,
} from '../../../edge/relay/outbox-store.js';
import type { OutboxRow, RelayClass } from '../../../edge/relay/outbox.js';
import { SqliteDatabase } from '../../../edge/storage/database.js';

let dir: string;
let clock: number;
let ids: number;
const outboxes: SqliteOutbox[] = [];
const now = () => clock;
const newId = () => `00000000-0000-4000-8000-${String(++ids).padStart(12, '0')}`;
const event = (type: string, data: unknown = { pad: 'x'.repeat(100) }) =>
  cloudEventFactory({ storeId: 's1', newId, now })({ type, subject: 'test', data });

function config(overrides: Partial<OutboxConfig> = {}): OutboxConfig {
  return { ...OUTBOX_DEFAULTS, droppedReportIntervalMs: 0, ...overrides };
}

async function open(overrides: Partial<OutboxConfig> = {}): Promise<SqliteOutbox> {
  const outbox = new SqliteOutbox(dir, config(overrides), { storeId: 's1', newId, now, log: pino({ level: 'silent' }) });
  await outbox.start();
  outboxes.push(outbox);
  return outbox;
}

async function rowsOf(outbox: SqliteOutbox, relayClass: RelayClass): Promise<OutboxRow[]> {
  const rows = await outbox.read(relayClass, 0, 100_000);
  outbox.release(rows.map((r) => r.seq));
  return rows;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smartstore-outbox-'));
  clock = 1_700_000_000_000;
  ids = 0;
});

afterEach(async () => {
  for (const outbox of outboxes.splice(0)) await outbox.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('SqliteOutbox', () => {
  it('writes many appends per transaction (group commit) and resolves each with its durable row', async () => {
    const outbox = await open({ maxBatch: 500, flushIntervalMs: 5 });
    const appended = await Promise.all(Array.from({ length: 1_200 }, (_, i) => outbox.append(event('store.test', { i }), 'operational')));
    expect(appended.map((r) => r.seq)).toEqual(Array.from({ length: 1_200 }, (_, i) => i + 1));
    expect(outbox.counts.committedRows).toBe(1_200);
    // 1,200 rows appended at once: 500 + 500 + 200, not 1,200 transactions
    expect(outbox.counts.commits).toBe(3);
    const rows = await rowsOf(outbox, 'operational');
    expect(rows).toHaveLength(1_200);
    expect(JSON.parse((rows[7] as OutboxRow).body)).toMatchObject({ specversion: '1.0', type: 'store.test', data: { i: 7 } });
    expect(outbox.stats(clock).perClass.operational).toMatchObject({
      rows: 1_200,
      bytes: rows.reduce((n, r) => n + Buffer.byteLength(r.body), 0),
    });
  });

  it('opens its own file with synchronous=FULL', async () => {
    const outbox = await open();
    await outbox.append(event('store.test'), 'critical');
    const db = new SqliteDatabase(outbox.path, { synchronous: 'FULL' });
    await db.open();
    expect(await db.get('PRAGMA synchronous')).toEqual({ synchronous: 2 });
    expect(await db.get('SELECT COUNT(*) AS n FROM outbox')).toEqual({ n: 1 });
    await db.close();
  });

  it('refuses appends beyond maxPendingAppends with a typed error, counted, and writes the accepted ones', async () => {
    const outbox = await open({ maxPendingAppends: 10, maxBatch: 500, flushIntervalMs: 50 });
    const accepted = Array.from({ length: 10 }, () => outbox.append(event('store.test'), 'telemetry'));
    const refused = outbox.append(event('store.test'), 'telemetry');
    await expect(refused).rejects.toBeInstanceOf(OutboxBackpressureError);
    expect(outbox.counts.backpressureRejections).toBe(1);
    await Promise.all(accepted);
    expect(await rowsOf(outbox, 'telemetry')).toHaveLength(10);
    // once committed, the queue takes appends again
    await expect(outbox.append(event('store.test'), 'telemetry')).resolves.toMatchObject({ seq: 11 });
  });

  it('delivers committed rows to onDurable in seq order and deletes removed rows in a later commit', async () => {
    const outbox = await open();
    const seen: number[] = [];
    outbox.onDurable((rows) => seen.push(...rows.map((r) => r.seq)));
    const rows = await Promise.all([1, 2, 3].map(() => outbox.append(event('store.test'), 'critical')));
    expect(seen).toEqual([1, 2, 3]);
    await outbox.remove([1, 3]);
    expect((await rowsOf(outbox, 'critical')).map((r) => r.seq)).toEqual([2]);
    expect(outbox.stats(clock).perClass.critical).toMatchObject({
      rows: 1,
      bytes: Buffer.byteLength((rows[1] as OutboxRow).body),
      oldestCreatedAt: clock,
    });
  });

  it('drops the oldest rows of a class over its budget and accounts every drop, in a drop report to HQ', async () => {
    const outbox = await open({
      budgets: { criticalBytes: 1_000_000, operationalBytes: 1_000_000, telemetryBytes: 2_000, totalBytes: 10_000_000 },
    });
    const appended: OutboxRow[] = [];
    for (let i = 0; i < 30; i++) {
      clock += 1_000;
      appended.push(await outbox.append(event('store.telemetry.hourly', { i, pad: 'x'.repeat(100) }), 'telemetry'));
    }
    const left = await rowsOf(outbox, 'telemetry');
    const stats = outbox.stats(clock).perClass.telemetry;
    expect(stats.bytes).toBeLessThanOrEqual(2_000);
    // oldest first: what is left is the newest ones, contiguous
    expect(left.map((r) => r.seq)).toEqual(
      appended
        .slice(30 - left.length)
        .map((r) => r.seq)
        .filter((s) => left.some((r) => r.seq === s)),
    );
    expect(left.at(-1)?.id).toBe(appended.at(-1)?.id);
    const droppedIds = appended.filter((a) => !left.some((r) => r.id === a.id));
    expect(stats.dropped.count).toBe(droppedIds.length);
    expect(stats.dropped.firstAt).toBe(droppedIds[0]?.createdAt);
    expect(stats.dropped.lastAt).toBe(droppedIds.at(-1)?.createdAt);
    // the reports to HQ add up to exactly what it will never get
    const reports = (await rowsOf(outbox, 'critical'))
      .filter((r) => r.type === DROPPED_EVENT_TYPE)
      .map((r) => (JSON.parse(r.body) as { data: DroppedReport }).data);
    expect(reports.reduce((n, r) => n + r.perClass.telemetry.count, 0)).toBe(droppedIds.length);
    expect(reports[0]?.perClass.telemetry.firstTime).toBe(new Date(droppedIds[0]?.createdAt ?? 0).toISOString());
    expect(reports.every((r) => r.perClass.critical.count === 0 && r.perClass.operational.count === 0)).toBe(true);
  });

  it('takes the total budget from the lowest class first, oldest first', async () => {
    const rowBytes = Buffer.byteLength(JSON.stringify(event('store.stock.changed')));
    // room for 21 rows; one drop report per minute at most, so reports do not crowd out the rows under test
    const totalBytes = 21 * rowBytes;
    const outbox = await open({
      droppedReportIntervalMs: 60_000,
      budgets: { criticalBytes: 1_000_000, operationalBytes: 1_000_000, telemetryBytes: 1_000_000, totalBytes },
    });
    for (let i = 0; i < 10; i++) await outbox.append(event('store.stock.changed'), 'operational');
    for (let i = 0; i < 10; i++) await outbox.append(event('store.telemetry.hourly'), 'telemetry');
    expect(outbox.stats(clock).perClass.operational.dropped.count).toBe(0);
    const before = await rowsOf(outbox, 'operational');
    // over the total now: telemetry goes first, entirely, before any operational row
    for (let i = 0; i < 15; i++) await outbox.append(event('store.alert.changed'), 'critical');
    const stats = outbox.stats(clock);
    expect(stats.perClass.telemetry.rows).toBe(0);
    expect(stats.perClass.telemetry.dropped.count).toBe(10);
    const after = await rowsOf(outbox, 'operational');
    expect(stats.perClass.operational.dropped.count).toBe(before.length - after.length);
    expect(after.map((r) => r.seq)).toEqual(before.slice(before.length - after.length).map((r) => r.seq));
    expect(stats.perClass.critical.dropped.count).toBe(0);
    expect(stats.perClass.operational.dropped.count).toBeGreaterThan(0);
    expect(stats.perClass.critical.bytes + stats.perClass.operational.bytes).toBeLessThanOrEqual(totalBytes);
  });

  it('never drops leased rows (in flight to HQ) until they are released', async () => {
    const outbox = await open({
      budgets: { criticalBytes: 1_000_000, operationalBytes: 1_000_000, telemetryBytes: 1_500, totalBytes: 10_000_000 },
    });
    for (let i = 0; i < 5; i++) await outbox.append(event('store.telemetry.hourly'), 'telemetry');
    const leased = await outbox.read('telemetry', 0, 3);
    for (let i = 0; i < 20; i++) await outbox.append(event('store.telemetry.hourly'), 'telemetry');
    const seqs = (await outbox.read('telemetry', 0, 100)).map((r) => r.seq);
    expect(seqs.slice(0, 3)).toEqual(leased.map((r) => r.seq));
    expect(outbox.stats(clock).perClass.telemetry.dropped.count).toBeGreaterThan(0);
    outbox.release(seqs);
    await outbox.append(event('store.telemetry.hourly'), 'telemetry');
    const after = (await rowsOf(outbox, 'telemetry')).map((r) => r.seq);
    expect(after).not.toContain(leased[0]?.seq);
  });

  it('sends at most one drop report per interval; drops in between go into the next one', async () => {
    const outbox = await open({
      droppedReportIntervalMs: 60_000,
      budgets: { criticalBytes: 1_000_000, operationalBytes: 1_000_000, telemetryBytes: 1_000, totalBytes: 10_000_000 },
    });
    for (let i = 0; i < 40; i++) await outbox.append(event('store.telemetry.hourly'), 'telemetry');
    const reports = async () =>
      (await rowsOf(outbox, 'critical'))
        .filter((r) => r.type === DROPPED_EVENT_TYPE)
        .map((r) => (JSON.parse(r.body) as { data: DroppedReport }).data);
    expect(await reports()).toHaveLength(1);
    clock += 60_000;
    await outbox.append(event('store.telemetry.hourly'), 'telemetry');
    const all = await reports();
    expect(all).toHaveLength(2);
    expect(all.reduce((n, r) => n + r.perClass.telemetry.count, 0)).toBe(outbox.stats(clock).perClass.telemetry.dropped.count);
  });

  it('keeps seq increasing and its counters right across a restart, also after every row was removed', async () => {
    let outbox = await open({
      budgets: { criticalBytes: 1_000_000, operationalBytes: 1_000_000, telemetryBytes: 1_000, totalBytes: 10_000_000 },
    });
    for (let i = 0; i < 10; i++) await outbox.append(event('store.telemetry.hourly'), 'telemetry');
    const critical = await Promise.all([1, 2].map(() => outbox.append(event('store.alert.changed'), 'critical')));
    const before = outbox.stats(clock);
    await outbox.stop();
    outbox = await open({
      budgets: { criticalBytes: 1_000_000, operationalBytes: 1_000_000, telemetryBytes: 1_000, totalBytes: 10_000_000 },
    });
    const after = outbox.stats(clock);
    for (const c of ['critical', 'operational', 'telemetry'] as const) {
      expect(after.perClass[c]).toMatchObject({
        rows: before.perClass[c].rows,
        bytes: before.perClass[c].bytes,
        dropped: before.perClass[c].dropped,
        oldestCreatedAt: before.perClass[c].oldestCreatedAt,
      });
    }
    expect(after.maxSeq).toBe(before.maxSeq);
    const all = [...(await outbox.read('critical', 0, 1000)), ...(await outbox.read('telemetry', 0, 1000))];
    await outbox.remove(all.map((r) => r.seq));
    expect(outbox.stats(clock).perClass.critical.rows).toBe(0);
    await outbox.stop();
    outbox = await open();
    const next = await outbox.append(event('store.alert.changed'), 'critical');
    expect(next.seq).toBe(before.maxSeq + 1);
    expect(next.seq).toBeGreaterThan(Math.max(...critical.map((r) => r.seq)));
  });

  it('forecasts the time until a budget is full from the append rate (time is a parameter)', async () => {
    const outbox = await open({ rateWindowS: 300, budgets: { ...OUTBOX_DEFAULTS.budgets, operationalBytes: 10_000_000 } });
    expect(outbox.stats(clock).perClass.operational.forecastFullInS).toBeNull();
    let bytes = 0;
    for (let i = 0; i < 120; i++) {
      clock += 5_000;
      bytes += Buffer.byteLength((await outbox.append(event('store.stock.changed'), 'operational')).body);
    }
    const stats = outbox.stats(clock).perClass.operational;
    const perS = bytes / 600;
    expect(stats.appendBytesPerS).toBeGreaterThan(perS * 0.8);
    expect(stats.appendBytesPerS).toBeLessThan(perS * 1.2);
    expect(stats.forecastFullInS).toBeCloseTo((10_000_000 - stats.bytes) / stats.appendBytesPerS, 3);
    // nothing appended for an hour: the rate decays, the forecast grows
    expect(outbox.stats(clock + 3_600_000).perClass.operational.appendBytesPerS).toBeLessThan(perS * 0.01);
  });

  it('refuses appends before start and after stop', async () => {
    const outbox = new SqliteOutbox(dir, config(), { storeId: 's1', newId, now, log: pino({ level: 'silent' }) });
    await expect(outbox.append(event('store.test'), 'critical')).rejects.toBeInstanceOf(OutboxClosedError);
    await outbox.start();
    const pending = outbox.append(event('store.test'), 'critical');
    await outbox.stop();
    await expect(pending).resolves.toMatchObject({ seq: 1 });
    await expect(outbox.append(event('store.test'), 'critical')).rejects.toBeInstanceOf(OutboxClosedError);
  });
});
