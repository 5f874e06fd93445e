/**
 * Hostile conditions, issue 8: the disk refuses writes — full, or the database read-only — while the store runs.
 * Live alerts must keep flowing (API and event bus), /api/health must say what is wrong (503), write routes answer what
 * is wrong (issue 21: 507 naming the disk and data dir when it is full, 503 otherwise; never a 200 the disk cannot
 * keep), and once the disk is back the pending changes are written, health is ok again and the database is intact.
 *
 * Three ways to make the disk refuse, all on the gateway's real SQLite connection:
 * - a really full disk: the data dir is a 4 MB tmpfs filled to the last byte (needs root / CAP_SYS_ADMIN to mount;
 *   skipped elsewhere);
 * - a full disk as SQLite reports it: the connection's COMMIT answers node-sqlite3's SQLITE_FULL error (works
 *   everywhere, so the 507 is tested also where no tmpfs can be mounted);
 * - a read-only database: `PRAGMA query_only` on the gateway's own connection, which the test captures by wrapping
 *   sqlite3's Database#exec while the gateway opens it (works everywhere).
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { Alert } from '../../edge/alerts/alerts.js';
import type { HealthReport } from '../../edge/http/health-routes.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

type Row = { id: string; state: string; key: string; acknowledged_by: string | null; resolved_by: string | null };

/** Runs `work` with a separate connection to the database file, as an operator's sqlite3 shell would. */
async function withSeparateConnection<T>(file: string, work: (db: sqlite3.Database) => Promise<T>): Promise<T> {
  const db = await new Promise<sqlite3.Database>((resolve, reject) => {
    const handle = new sqlite3.Database(file, sqlite3.OPEN_READONLY, (error) => (error ? reject(error) : resolve(handle)));
  });
  try {
    return await work(db);
  } finally {
    await new Promise<void>((resolve) => db.close(() => resolve()));
  }
}

const all = <T>(db: sqlite3.Database, sql: string) =>
  new Promise<T[]>((resolve, reject) => db.all(sql, (error, rows) => (error ? reject(error) : resolve(rows as T[]))));
const exec = (db: sqlite3.Database, sql: string) =>
  new Promise<void>((resolve, reject) => db.exec(sql, (error) => (error ? reject(error) : resolve())));

/** Starts a gateway and returns the sqlite3 handle its storage opened (the connection every write goes through). */
async function startCapturingConnection(dataDir?: string): Promise<{ gw: TestGateway; connection: sqlite3.Database }> {
  // a spy calls through to the real exec() and records the connection (`this`) of each call
  const exec = vi.spyOn(sqlite3.Database.prototype, 'exec');
  try {
    const gw = await startTestGateway(dataDir ? { dataDir } : {});
    const connection = exec.mock.contexts[exec.mock.calls.findIndex(([sql]) => sql.includes('journal_mode = WAL'))];
    if (!(connection instanceof sqlite3.Database)) throw new Error("could not capture the gateway's SQLite connection");
    return { gw, connection };
  } finally {
    exec.mockRestore();
  }
}

async function health(gw: TestGateway): Promise<{ status: number; body: HealthReport }> {
  const response = await gw.api('/api/health');
  return { status: response.status, body: (await response.json()) as HealthReport };
}

async function activeAlerts(gw: TestGateway): Promise<Alert[]> {
  return ((await (await gw.api('/api/alerts?state=all')).json()) as { alerts: Alert[] }).alerts;
}

/** What the gateway answers a write while the disk refuses, and what health says meanwhile. */
type Refusal = { healthError: RegExp; status: 503 | 507; error: string; message: RegExp; diskFull: boolean };

/**
 * The scenario every failure mode shares. `breakDisk` makes writes fail, `repairDisk` undoes it. Since issue 21 a 2xx
 * is a promise that the change is on disk: while the disk refuses, live alerts keep flowing (API and event bus) but a
 * write route answers 503/507 with what is wrong instead of 200; once the disk is back everything is written (the
 * refused change too: it was kept and retried, as the answer said), health is ok again and the database is intact.
 */
async function storeKeepsRunningWhileTheDiskRefuses(
  gw: TestGateway,
  breakDisk: () => Promise<void>,
  repairDisk: () => Promise<void>,
  refusal: Refusal,
): Promise<void> {
  const kiosk1 = await gw.connectDevice('kiosk-1', 'kiosk');
  const kiosk2 = await gw.connectDevice('kiosk-2', 'kiosk');
  const streamed: Alert[] = [];
  const unsubscribe = gw.built.bus.on('alert.changed', 'test', ({ alert }) => streamed.push(alert));
  expect((await health(gw)).status).toBe(200);
  const writeErrorsBefore = await gw.built.metrics.value('smartstore_storage_write_errors_total');
  // staff tokens are made by store IT beforehand (the CLI writes them; a broken disk would refuse that too)
  const maria = await gw.addToken('maria', 'staff');
  const jonas = await gw.addToken('jonas', 'staff');
  const event = (type: string) => JSON.stringify({ type, ts: Date.now() });
  // kiosk-1 asks for help while the disk is fine: PUBACKed once its alert is on disk
  await kiosk1.publishAsync('store/test-store/kiosk/kiosk-1/event', event('assist-requested'), { qos: 1 });
  const first = await eventually(async () => (await activeAlerts(gw)).find((a) => a.deviceId === 'kiosk-1'), 3_000, "kiosk-1's alert");

  await breakDisk();

  // the store keeps working live: kiosk-2 asks for help (not PUBACKed while its alert cannot be stored: it would
  // send it again), and its alert is on the API and the bus at once
  kiosk2.publish('store/test-store/kiosk/kiosk-2/event', event('assist-requested'), { qos: 1 });
  const second = await eventually(
    async () => (await activeAlerts(gw)).find((a) => a.deviceId === 'kiosk-2'),
    3_000,
    "kiosk-2's live alert while the disk refuses writes",
  );

  // health turns 503 with the storage error, as soon as a flush has failed
  const degraded = await eventually(
    async () => {
      const h = await health(gw);
      return h.status === 503 ? h : undefined;
    },
    5_000,
    'health to report the storage failure',
  );
  expect(degraded.body).toMatchObject({ status: 'degraded', checks: { storage: { ok: false }, broker: { ok: true } } });
  expect(degraded.body.checks.storage?.error).toMatch(refusal.healthError);
  expect(degraded.body.checks.storage?.pendingWrites).toBeGreaterThan(0);
  if (refusal.diskFull) {
    const names = expect.stringContaining(`the disk holding the data dir ${gw.dataDir}`) as string;
    expect(degraded.body.checks.storage).toMatchObject({ diskFull: true, error: names });
  }
  expect(await gw.built.metrics.value('smartstore_storage_write_errors_total')).toBeGreaterThan(writeErrorsBefore);

  // a write route says what is wrong: not a 200 (it would be a promise the disk cannot keep), not a generic 500
  const ack = await gw.api(`/api/alerts/${first.id}/ack`, { method: 'POST', token: maria, body: JSON.stringify({}) });
  expect(ack.status).toBe(refusal.status);
  const answer = (await ack.json()) as { statusCode: number; error: string; message: string };
  expect(answer).toMatchObject({ statusCode: refusal.status, error: refusal.error });
  expect(answer.message).toMatch(refusal.message);
  expect(answer.message).toContain('this change is not on disk');
  expect((await health(gw)).status).toBe(503);

  await repairDisk();

  // the pending changes are written by the next flush, and health is ok again
  const recovered = await eventually(
    async () => {
      const h = await health(gw);
      return h.status === 200 && h.body.checks.storage?.pendingWrites === 0 ? h : undefined;
    },
    5_000,
    'health to recover',
  );
  expect(recovered.body).toMatchObject({ status: 'ok', checks: { storage: { ok: true } } });
  expect(recovered.body.checks.storage?.error).toBeUndefined();
  // and writes answer 200 again
  const resolve = await gw.api(`/api/alerts/${second.id}/resolve`, { method: 'POST', token: jonas, body: '{"note":"helped"}' });
  expect(resolve.status).toBe(200);

  // every change went out live, the refused ack too (it was kept and written once the disk was back)
  const changes = streamed.map((a) => `${a.deviceId}:${a.state}`);
  expect(changes).toEqual(['kiosk-1:open', 'kiosk-2:open', 'kiosk-1:acknowledged', 'kiosk-2:resolved']);

  const dbFile = join(gw.dataDir, 'gateway.db');
  const rows = await withSeparateConnection(dbFile, (db) =>
    all<Row>(db, 'SELECT id, state, key, acknowledged_by, resolved_by FROM alerts ORDER BY opened_at, id'),
  );
  expect(rows).toHaveLength(2);
  expect(rows.find((r) => r.id === first.id)).toMatchObject({ state: 'acknowledged', acknowledged_by: 'maria' });
  expect(rows.find((r) => r.id === second.id)).toMatchObject({ state: 'resolved', resolved_by: 'jonas' });
  const integrity = await withSeparateConnection(dbFile, (db) => all<{ integrity_check: string }>(db, 'PRAGMA integrity_check'));
  expect(integrity).toEqual([{ integrity_check: 'ok' }]);

  // and after a clean stop (checkpoint), the file on its own is intact and complete
  unsubscribe();
  await gw.stop();
  const afterStop = await withSeparateConnection(dbFile, async (db) => ({
    integrity: await all<{ integrity_check: string }>(db, 'PRAGMA integrity_check'),
    alerts: await all<{ n: number }>(db, 'SELECT count(*) AS n FROM alerts'),
  }));
  expect(afterStop).toEqual({ integrity: [{ integrity_check: 'ok' }], alerts: [{ n: 2 }] });
}

const DISK_FULL: Omit<Refusal, 'message'> = {
  healthError: /is full .*database or disk is full/i,
  status: 507,
  error: 'insufficient-storage',
  diskFull: true,
};

describe('the disk refuses writes while the store runs', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });
  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    await rm(mountDir, { recursive: true, force: true });
  });

  it('read-only database: alerts keep flowing, writes answer 503, health says so, everything is written once writable again', async () => {
    const { gw, connection } = await startCapturingConnection();
    cleanups.push(() => gw.dispose());
    await storeKeepsRunningWhileTheDiskRefuses(
      gw,
      () => exec(connection, 'PRAGMA query_only = ON'),
      () => exec(connection, 'PRAGMA query_only = OFF'),
      {
        healthError: /readonly/i,
        status: 503,
        error: 'storage-unavailable',
        message: /the gateway's database in .* refuses writes \(.*readonly/i,
        diskFull: false,
      },
    );
  });

  it('full disk as SQLite reports it (SQLITE_FULL at COMMIT, no tmpfs needed): write routes answer 507 naming the data dir', async () => {
    const { gw, connection } = await startCapturingConnection();
    cleanups.push(() => gw.dispose());
    // node-sqlite3's error for a commit the disk has no room for: `SQLITE_FULL: database or disk is full`, errno 13
    const full = Object.assign(new Error('SQLITE_FULL: database or disk is full'), { errno: 13, code: 'SQLITE_FULL' });
    const exec = connection.exec.bind(connection);
    await storeKeepsRunningWhileTheDiskRefuses(
      gw,
      async () => {
        connection.exec = function (sql: string, callback?: (error: Error | null) => void) {
          if (sql !== 'COMMIT') return exec(sql, callback);
          setImmediate(() => callback?.(full));
          return connection;
        };
      },
      async () => {
        connection.exec = exec;
      },
      {
        ...DISK_FULL,
        message: new RegExp(`^the disk holding the data dir ${gw.dataDir} \\(.* mounted on .*\\) is full \\([^)]* free\\): `),
      },
    );
  });

  const mountDir = mkdtempSync(join(tmpdir(), 'smartstore-full-'));
  let canMount = false;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0700', 'tmpfs', mountDir], { stdio: 'ignore' });
    execFileSync('umount', [mountDir], { stdio: 'ignore' });
    canMount = true;
  } catch {
    rmSync(mountDir, { recursive: true, force: true });
  }

  it.skipIf(!canMount)('full disk (a 4 MB tmpfs filled up): writes answer 507, health says so, all is written once freed', async () => {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0700', 'tmpfs', mountDir]);
    cleanups.push(async () => {
      execFileSync('umount', ['-l', mountDir], { stdio: 'ignore' });
      await rm(mountDir, { recursive: true, force: true });
    });
    const gw = await startTestGateway({ dataDir: mountDir });
    cleanups.push(() => gw.stop());
    const filler = join(mountDir, 'filler');
    await storeKeepsRunningWhileTheDiskRefuses(
      gw,
      async () => {
        // fill to the last byte: big chunks, then single bytes until the file system says no
        const fd = openSync(filler, 'w');
        try {
          for (const size of [64 * 1024, 4 * 1024, 1]) {
            const chunk = Buffer.alloc(size, 0x66);
            try {
              for (;;) writeSync(fd, chunk);
            } catch (error) {
              if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
            }
          }
        } finally {
          closeSync(fd);
        }
      },
      () => unlink(filler),
      {
        ...DISK_FULL,
        message: new RegExp(`^the disk holding the data dir ${mountDir} \\(tmpfs mounted on ${mountDir}\\) is full \\([^)]* free\\)`),
      },
    );
  });
});
