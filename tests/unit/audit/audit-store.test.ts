import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../edge/audit/audit-log.js';
import { AuditStore } from '../../../edge/audit/audit-store.js';
import { AlertStore, alertWrites } from '../../../edge/alerts/alert-store.js';
import { acknowledgeAlert, openAlert } from '../../../edge/alerts/alerts.js';
import { WriteBehindWriter } from '../../../edge/storage/write-behind.js';
import { SqliteDatabase } from '../../../edge/storage/database.js';
import { migratedDatabase, type MigratedDatabase } from '../../helpers/migrated-database.js';

let fixture: MigratedDatabase;
let db: SqliteDatabase;
/** connections a test opened besides the fixture's, closed before the fixture is disposed */
const opened: SqliteDatabase[] = [];

async function openDb(): Promise<SqliteDatabase> {
  const connection = new SqliteDatabase(db.path);
  await connection.open();
  opened.push(connection);
  return connection;
}

beforeEach(async () => {
  fixture = await migratedDatabase('smartstore-audit-');
  db = fixture.db;
});

afterEach(async () => {
  for (const connection of opened.splice(0)) await connection.close();
  await fixture.dispose();
});

const input = (n: number) => ({ at: 1_000 + n, actor: 'maria', action: 'alert.acknowledged', subject: `alert-${n}`, details: { n } });

describe('AuditStore', () => {
  it('appends chained entries across calls and verifies them; the table refuses UPDATE and DELETE', async () => {
    const store = new AuditStore(db);
    expect(await store.verify()).toEqual({ ok: true, count: 0, head: undefined });
    await store.append([input(1), input(2)]);
    const [third] = await store.append([input(3)]);
    expect(third).toMatchObject({ seq: 3 });
    expect(await store.verify()).toEqual({ ok: true, count: 3, head: { seq: 3, hash: third?.hash } });
    await expect(db.run("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")).rejects.toThrow('append-only');
    await expect(db.run('DELETE FROM audit_log WHERE seq = 2')).rejects.toThrow('append-only');
    expect((await store.verify()).ok).toBe(true);
  });

  it('pages through long trails (verify reads page by page)', async () => {
    const store = new AuditStore(db);
    await store.append(Array.from({ length: 25 }, (_, i) => input(i + 1)));
    const seqs: number[] = [];
    for await (const entry of store.entries(7)) seqs.push(entry.seq);
    expect(seqs).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(await store.verify(7)).toMatchObject({ ok: true, count: 25, head: { seq: 25 } });
  });

  it('two connections (the gateway and a CLI process) appending at once still make one chain', async () => {
    const other = await openDb();
    const gateway = new AuditStore(db);
    const cli = new AuditStore(other);
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? gateway : cli).append([input(i), input(i + 100)])));
    expect(await gateway.verify()).toMatchObject({ ok: true, count: 40, head: { seq: 40 } });
  });

  it('a failed append (rolled back) leaves the chain whole and the next append links to the last committed entry', async () => {
    const store = new AuditStore(db);
    await store.append([input(1)]);
    await expect(store.append([input(2), { ...input(3), details: { bad: Number.NaN } }])).rejects.toThrow('not a JSON number');
    expect((await store.head())?.seq).toBe(1);
    await store.append([input(4)]);
    expect(await store.verify()).toMatchObject({ ok: true, count: 2 });
  });
});

/** A connection whose transactions fail while `failing` is set, as a full or failing disk makes them. */
class FlakyDatabase extends SqliteDatabase {
  failing = false;
  override transaction<T>(work: Parameters<SqliteDatabase['transaction']>[0]): Promise<T> {
    return this.failing ? Promise.reject(new Error('disk I/O error')) : (super.transaction(work) as Promise<T>);
  }
}

async function openFlaky(): Promise<FlakyDatabase> {
  const connection = new FlakyDatabase(db.path);
  await connection.open();
  opened.push(connection);
  return connection;
}

const writerMetrics = {
  flushTimer: () => () => undefined,
  writeFailed: () => undefined,
  pending: () => undefined,
  dropped: () => undefined,
};
const writerOn = (connection: SqliteDatabase) =>
  new WriteBehindWriter(connection, { flushIntervalMs: 3_600_000, maxPendingWrites: 1_000 }, writerMetrics, pino({ level: 'silent' }));

describe('AuditLog', () => {
  const quiet = pino({ level: 'silent' });

  it('writes entries recorded in one tick in one transaction, in order, with the clock of the moment they were recorded', async () => {
    let now = 5_000;
    const store = new AuditStore(db);
    const log = new AuditLog(writerOn(db), { now: () => now, log: quiet });
    for (let i = 1; i <= 5; i++) {
      log.record({ actor: 'maria', action: 'alert.acknowledged', subject: `alert-${i}` });
      now += 10;
    }
    await log.flush();
    const entries = [];
    for await (const entry of store.entries()) entries.push(entry);
    expect(entries.map((e) => [e.seq, e.subject, e.at])).toEqual([1, 2, 3, 4, 5].map((i) => [i, `alert-${i}`, 5_000 + (i - 1) * 10]));
    expect(log.health()).toMatchObject({ ok: true, written: 5, pending: 0, dropped: 0 });
  });

  it('bounded: past maxPending new entries are dropped and counted', async () => {
    const log = new AuditLog(writerOn(db), { now: () => 1, log: quiet, maxPending: 3 });
    const accepted = [1, 2, 3, 4, 5].map((i) => log.record({ actor: 'a', action: 'x.y', subject: String(i) }));
    expect(accepted).toEqual([true, true, true, false, false]);
    expect(log.health()).toMatchObject({ pending: 3, dropped: 2 });
    await log.stop();
    expect(log.health()).toMatchObject({ written: 3, pending: 0 });
    expect(log.record({ actor: 'a', action: 'x.y', subject: 'late' })).toBe(false);
  });

  it('a failing disk keeps entries queued, in order, reports it in the writer health, and writes them when it recovers', async () => {
    const store = new AuditStore(db);
    const flaky = await openFlaky();
    const writer = writerOn(flaky);
    const log = new AuditLog(writer, { now: () => 1, log: quiet });
    flaky.failing = true;
    log.record({ actor: 'a', action: 'x.y', subject: 'first' });
    await expect(log.flush()).rejects.toThrow('disk I/O error');
    log.record({ actor: 'a', action: 'x.y', subject: 'second' });
    expect(log.health()).toMatchObject({ pending: 2 });
    expect(writer.health()).toMatchObject({ ok: false, error: 'disk I/O error' });
    flaky.failing = false;
    await log.flush();
    const subjects = [];
    for await (const entry of store.entries()) subjects.push(entry.subject);
    expect(subjects).toEqual(['first', 'second']);
    expect(log.health()).toMatchObject({ pending: 0, written: 2 });
    await log.stop();
  });

  it('an alert change and its audit entry commit in one transaction, or neither does', async () => {
    const flaky = await openFlaky();
    const writer = writerOn(flaky);
    const alertChanges = writer.register(alertWrites);
    const log = new AuditLog(writer, { now: () => 1, log: quiet });
    const opened = openAlert(
      { kind: 'kiosk-assist', key: 'kiosk-assist/k1', severity: 'critical', title: 'help', deviceId: 'k1' },
      'a-1',
      1_000,
    );
    alertChanges.put(opened.id, opened);
    await writer.commit();
    flaky.failing = true;
    const acked = acknowledgeAlert(opened, 'maria', 2_000);
    alertChanges.put(acked.id, acked);
    log.record({ actor: 'maria', action: 'alert.acknowledged', subject: acked.id });
    await expect(writer.commit()).rejects.toThrow('disk I/O error');
    const stateAfterFailure = await new AlertStore(db).get('a-1');
    expect(stateAfterFailure?.state).toBe('open');
    expect((await new AuditStore(db).verify()).ok && (await new AuditStore(db).head())).toBe(undefined);
    flaky.failing = false;
    await writer.commit();
    expect((await new AlertStore(db).get('a-1'))?.state).toBe('acknowledged');
    expect(await new AuditStore(db).head()).toMatchObject({ seq: 1 });
  });
});
