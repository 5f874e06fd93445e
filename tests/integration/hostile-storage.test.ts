/**
 * Hostile conditions, issue 8: the disk refuses writes — full, or the database read-only — while the store runs.
 * Live alerts must keep flowing (API and event bus), /api/health must say what is wrong (503), and once the disk is
 * back the pending changes are written, health is ok again and the database is intact.
 *
 * Two ways to make the disk refuse, both on the gateway's real SQLite connection:
 * - a really full disk: the data dir is a 4 MB tmpfs filled to the last byte (needs root / CAP_SYS_ADMIN to mount;
 *   skipped with a note elsewhere);
 * - a read-only database: `PRAGMA query_only` on the gateway's own connection, which the test captures by wrapping
 *   sqlite3's Database#exec while the gateway opens it (works everywhere).
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
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

const all = <T>(db: sqlite3.Database, sql: string) => new Promise<T[]>((resolve, reject) => db.all(sql, (error, rows) => (error ? reject(error) : resolve(rows as T[]))));
const exec = (db: sqlite3.Database, sql: string) => new Promise<void>((resolve, reject) => db.exec(sql, (error) => (error ? reject(error) : resolve())));

/** Starts a gateway and returns the sqlite3 handle its storage opened (the connection every write goes through). */
async function startCapturingConnection(dataDir?: string): Promise<{ gw: TestGateway; connection: sqlite3.Database }> {
  const original = sqlite3.Database.prototype.exec;
  let connection: sqlite3.Database | undefined;
  sqlite3.Database.prototype.exec = function (this: sqlite3.Database, sql: string, callback?: (error: Error | null) => void) {
    if (!connection && sql.includes('journal_mode = WAL')) connection = this;
    return original.call(this, sql, callback);
  };
  try {
    const gw = await startTestGateway(dataDir ? { dataDir } : {});
    if (!connection) throw new Error("could not capture the gateway's SQLite connection");
    return { gw, connection };
  } finally {
    sqlite3.Database.prototype.exec = original;
  }
}

async function health(gw: TestGateway): Promise<{ status: number; body: HealthReport }> {
  const response = await gw.api('/api/health');
  return { status: response.status, body: (await response.json()) as HealthReport };
}

async function activeAlerts(gw: TestGateway): Promise<Alert[]> {
  return ((await (await gw.api('/api/alerts?state=all')).json()) as { alerts: Alert[] }).alerts;
}

/**
 * The scenario both failure modes share. `breakDisk` makes writes fail, `repairDisk` undoes it; `expectedError`
 * is what health must report meanwhile.
 */
async function storeKeepsRunningWhileTheDiskRefuses(gw: TestGateway, breakDisk: () => Promise<void>, repairDisk: () => Promise<void>, expectedError: RegExp): Promise<void> {
  const kiosk1 = await gw.connectDevice('kiosk-1', 'kiosk');
  const kiosk2 = await gw.connectDevice('kiosk-2', 'kiosk');
  const streamed: Alert[] = [];
  const unsubscribe = gw.built.bus.on('alert.changed', 'test', ({ alert }) => streamed.push(alert));
  expect((await health(gw)).status).toBe(200);
  const writeErrorsBefore = await gw.built.metrics.value('smartstore_storage_write_errors_total');
  // staff tokens are made by store IT beforehand (the CLI writes them; a broken disk would refuse that too)
  const maria = await gw.addToken('maria', 'staff');
  const jonas = await gw.addToken('jonas', 'staff');

  await breakDisk();

  // the store keeps working: two kiosks ask for help, staff acknowledge one and resolve the other, and the resolved
  // kiosk asks again (a second alert for the same key, while the first one's resolution is not on disk yet)
  const event = (type: string) => JSON.stringify({ type, ts: Date.now() });
  await kiosk1.publishAsync('store/test-store/kiosk/kiosk-1/event', event('assist-requested'), { qos: 1 });
  await kiosk2.publishAsync('store/test-store/kiosk/kiosk-2/event', event('assist-requested'), { qos: 1 });
  const opened = await eventually(async () => {
    const alerts = await activeAlerts(gw);
    return alerts.length === 2 ? alerts : undefined;
  }, 3_000, 'two live alerts while the disk refuses writes');
  const first = opened.find((a) => a.deviceId === 'kiosk-1') as Alert;
  const second = opened.find((a) => a.deviceId === 'kiosk-2') as Alert;

  // health turns 503 with the storage error, as soon as a flush has failed
  const degraded = await eventually(async () => {
    const h = await health(gw);
    return h.status === 503 ? h : undefined;
  }, 3_000, 'health to report the storage failure');
  expect(degraded.body).toMatchObject({ status: 'degraded', checks: { storage: { ok: false }, broker: { ok: true } } });
  expect(degraded.body.checks.storage?.error).toMatch(expectedError);
  expect(degraded.body.checks.storage?.pendingWrites).toBeGreaterThan(0);
  expect(await gw.built.metrics.value('smartstore_storage_write_errors_total')).toBeGreaterThan(writeErrorsBefore);

  const ack = await gw.api(`/api/alerts/${first.id}/ack`, { method: 'POST', token: maria, body: JSON.stringify({}) });
  expect(ack.status).toBe(200);
  const resolve = await gw.api(`/api/alerts/${second.id}/resolve`, { method: 'POST', token: jonas, body: JSON.stringify({ note: 'helped' }) });
  expect(resolve.status).toBe(200);
  await kiosk2.publishAsync('store/test-store/kiosk/kiosk-2/event', event('assist-requested'), { qos: 1 });
  const again = await eventually(async () => (await activeAlerts(gw)).find((a) => a.deviceId === 'kiosk-2' && a.state === 'open'), 3_000, "kiosk-2's second alert");
  expect(again.id).not.toBe(second.id);

  // every change went out live
  expect(streamed.map((a) => `${a.deviceId}:${a.state}`)).toEqual(['kiosk-1:open', 'kiosk-2:open', 'kiosk-1:acknowledged', 'kiosk-2:resolved', 'kiosk-2:open']);
  expect((await health(gw)).status).toBe(503);

  await repairDisk();

  // the pending changes are written by the next flush, and health is ok again
  const recovered = await eventually(async () => {
    const h = await health(gw);
    return h.status === 200 && h.body.checks.storage?.pendingWrites === 0 ? h : undefined;
  }, 3_000, 'health to recover');
  expect(recovered.body).toMatchObject({ status: 'ok', checks: { storage: { ok: true } } });
  expect(recovered.body.checks.storage?.error).toBeUndefined();

  const dbFile = join(gw.dataDir, 'gateway.db');
  const rows = await withSeparateConnection(dbFile, (db) => all<Row>(db, 'SELECT id, state, key, acknowledged_by, resolved_by FROM alerts ORDER BY opened_at, id'));
  expect(rows).toHaveLength(3);
  expect(rows.find((r) => r.id === first.id)).toMatchObject({ state: 'acknowledged', acknowledged_by: 'maria' });
  expect(rows.find((r) => r.id === second.id)).toMatchObject({ state: 'resolved', resolved_by: 'jonas' });
  expect(rows.find((r) => r.id === again.id)).toMatchObject({ state: 'open', key: 'kiosk-assist:kiosk-2' });
  const integrity = await withSeparateConnection(dbFile, (db) => all<{ integrity_check: string }>(db, 'PRAGMA integrity_check'));
  expect(integrity).toEqual([{ integrity_check: 'ok' }]);

  // and after a clean stop (checkpoint), the file on its own is intact and complete
  unsubscribe();
  await gw.stop();
  const afterStop = await withSeparateConnection(dbFile, async (db) => ({
    integrity: await all<{ integrity_check: string }>(db, 'PRAGMA integrity_check'),
    alerts: await all<{ n: number }>(db, 'SELECT count(*) AS n FROM alerts'),
  }));
  expect(afterStop).toEqual({ integrity: [{ integrity_check: 'ok' }], alerts: [{ n: 3 }] });
}

describe('the disk refuses writes while the store runs', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });
  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    await rm(mountDir, { recursive: true, force: true });
  });

  it('read-only database: alerts keep flowing, health says so (503), everything is written once writable again', async () => {
    const { gw, connection } = await startCapturingConnection();
    cleanups.push(() => gw.dispose());
    await storeKeepsRunningWhileTheDiskRefuses(
      gw,
      () => exec(connection, 'PRAGMA query_only = ON'),
      () => exec(connection, 'PRAGMA query_only = OFF'),
      /readonly/i,
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

  it.skipIf(!canMount)('full disk (a 4 MB tmpfs filled up): alerts keep flowing, health says so (503), everything is written once space is freed', async () => {
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
      /full/i,
    );
  });
});
