import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { acknowledgeAlert, openAlert, resolveAlert, type Alert } from '../../../edge/alerts/alerts.js';
import { GatewayMetrics } from '../../../edge/metrics/gateway-metrics.js';
import { AlertStore } from '../../../edge/alerts/alert-store.js';
import { SqliteDatabase } from '../../../edge/storage/database.js';
import { DeviceStore } from '../../../edge/devices/device-store.js';
import { FacingStateStore } from '../../../edge/stock/facing-state-store.js';
import { migrate } from '../../../edge/storage/migrate.js';
import { StateWriter, type FacingSnapshot, type StateWriterOptions } from '../../../edge/storage/state-writer.js';

let dir: string;
let db: SqliteDatabase;
let metrics: GatewayMetrics;
let alerts: AlertStore;
/** flips the database into refusing transactions, as a full or read-only disk would */
let failing: boolean;
let flakyDb: SqliteDatabase;

const silent = pino({ level: 'silent' });
const OPTIONS: StateWriterOptions = { flushIntervalMs: 60_000, maxHistoryRows: 100, maxPendingWrites: 100 };

function writer(options: Partial<StateWriterOptions> = {}, database: SqliteDatabase = flakyDb): StateWriter {
  return new StateWriter(database, { ...OPTIONS, ...options }, metrics, silent);
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smartstore-writer-test-'));
  db = new SqliteDatabase(join(dir, 'gateway.db'));
  await db.open();
  await migrate(db);
  metrics = new GatewayMetrics({ defaultMetrics: false });
  alerts = new AlertStore(db);
  failing = false;
  flakyDb = new Proxy(db, {
    get(target, property) {
      if (property === 'transaction' && failing) return () => Promise.reject(new Error('SQLITE_FULL: database or disk is full'));
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
});

afterEach(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

const lowStock = (id: string, facing: number, at: number): Alert =>
  openAlert({ kind: 'low-stock', key: `low-stock:shelf-a/${facing}`, severity: 'warning', title: `low ${facing}`, shelfId: 'shelf-a', facing, sku: 'sku-1', units: 2 }, id, at);
const assist = (id: string, kiosk: string, at: number): Alert =>
  openAlert({ kind: 'kiosk-assist', key: `kiosk-assist:${kiosk}`, severity: 'warning', title: `assist ${kiosk}`, deviceId: kiosk }, id, at);
const facing = (shelfId: string, n: number, units: number, at: number): FacingSnapshot => ({
  shelfId,
  facing: n,
  units,
  weightG: units * 100,
  source: 'weight',
  level: units <= 2 ? 'low' : 'ok',
  updatedAt: at,
});
const count = async (table: string) => (await db.get<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))?.n;

describe('AlertStore round trip', () => {
  it('an alert with every field comes back equal; one with none has no extra keys', async () => {
    const full: Alert = {
      ...resolveAlert(acknowledgeAlert(lowStock('a1', 1, 10), 'ann', 20), 'bob', 'restocked', 30),
      deviceId: 'shelf-a',
      snoozedUntil: 25,
    };
    const bare = assist('a2', 'k1', 40);
    const w = writer();
    w.saveAlert(full);
    w.saveAlert(bare);
    await w.flush();
    expect(await alerts.get('a1')).toEqual(full);
    expect(await alerts.get('a2')).toEqual(bare);
    expect(Object.keys((await alerts.get('a2'))!).sort()).toEqual(Object.keys(bare).sort());
    expect(await alerts.get('nope')).toBeUndefined();
  });

  it('loadActive returns unresolved alerts by opening time; listResolved newest first, by kind, limited', async () => {
    const w = writer();
    w.saveAlert(lowStock('late', 2, 300));
    w.saveAlert(assist('early', 'k1', 100));
    w.saveAlert(resolveAlert(lowStock('r1', 3, 10), 'x', 'r', 500));
    w.saveAlert(resolveAlert(assist('r2', 'k2', 10), 'x', 'r', 700));
    w.saveAlert(resolveAlert(lowStock('r3', 4, 10), 'x', 'r', 600));
    await w.flush();
    expect((await alerts.loadActive()).map((a) => a.id)).toEqual(['early', 'late']);
    expect((await alerts.listResolved({ limit: 10 })).map((a) => a.id)).toEqual(['r2', 'r3', 'r1']);
    expect((await alerts.listResolved({ kind: 'low-stock', limit: 10 })).map((a) => a.id)).toEqual(['r3', 'r1']);
    expect((await alerts.listResolved({ limit: 1 })).map((a) => a.id)).toEqual(['r2']);
  });
});

describe('StateWriter.flush', () => {
  it('writes alerts, facing state, history and last-seen times in one transaction', async () => {
    await new DeviceStore(db).insert({ id: 'shelf-a', kind: 'shelf', secretHash: Buffer.alloc(32), secretSalt: Buffer.alloc(16), scryptN: 1024, createdAt: 1, disabledAt: null, lastSeenAt: null });
    const transaction = vi.spyOn(db, 'transaction');
    const w = writer();
    w.saveAlert(lowStock('a1', 1, 10));
    w.saveFacing(facing('shelf-a', 1, 2, 10));
    w.saveFacing(facing('shelf-a', 2, 7, 11));
    w.deviceSeen('shelf-a', 12);
    expect(w.health()).toEqual({ ok: true, pendingWrites: 4, lastFlushAt: null });

    await w.flush();

    expect(transaction).toHaveBeenCalledTimes(1);
    expect(await alerts.get('a1')).toEqual(lowStock('a1', 1, 10));
    expect(await new FacingStateStore(db).loadAll()).toEqual([facing('shelf-a', 1, 2, 10), facing('shelf-a', 2, 7, 11)]);
    expect(await db.all('SELECT shelf_id, facing, ts, weight_g, units FROM shelf_history ORDER BY id')).toEqual([
      { shelf_id: 'shelf-a', facing: 1, ts: 10, weight_g: 200, units: 2 },
      { shelf_id: 'shelf-a', facing: 2, ts: 11, weight_g: 700, units: 7 },
    ]);
    expect(await db.get('SELECT last_seen_at FROM devices WHERE id = ?', ['shelf-a'])).toEqual({ last_seen_at: 12 });
    const health = w.health();
    expect(health.ok).toBe(true);
    expect(health.pendingWrites).toBe(0);
    expect(typeof health.lastFlushAt).toBe('number');
    expect(await metrics.value('smartstore_storage_pending_writes')).toBe(0);
  });

  it('coalesces: the latest change of an alert and of a facing wins, one history row per facing per flush', async () => {
    const w = writer();
    const a = lowStock('a1', 1, 10);
    w.saveAlert(a);
    w.saveAlert(acknowledgeAlert(a, 'ann', 20));
    w.saveFacing(facing('shelf-a', 1, 5, 10));
    w.saveFacing(facing('shelf-a', 1, 4, 20));
    w.saveFacing(facing('shelf-a', 1, 3, 30));
    expect(w.health().pendingWrites).toBe(2);
    await w.flush();
    expect((await alerts.get('a1'))?.state).toBe('acknowledged');
    expect(await count('alerts')).toBe(1);
    expect(await count('shelf_history')).toBe(1);
    expect((await new FacingStateStore(db).loadAll())[0]?.units).toBe(3);
  });

  it('a later flush updates rows in place', async () => {
    const w = writer();
    const a = lowStock('a1', 1, 10);
    w.saveAlert(a);
    w.saveFacing(facing('shelf-a', 1, 5, 10));
    await w.flush();
    w.saveAlert(resolveAlert(a, 'system', 'restocked', 50));
    w.saveFacing(facing('shelf-a', 1, 9, 50));
    await w.flush();
    expect(await alerts.get('a1')).toMatchObject({ state: 'resolved', resolvedAt: 50 });
    expect(await count('alerts')).toBe(1);
    expect(await count('facing_state')).toBe(1);
    expect(await count('shelf_history')).toBe(2);
  });

  it('with nothing pending, flush does not touch the database', async () => {
    const transaction = vi.spyOn(db, 'transaction');
    await writer().flush();
    expect(transaction).not.toHaveBeenCalled();
  });

  it('concurrent flush calls share the flush under way', async () => {
    const transaction = vi.spyOn(db, 'transaction');
    const w = writer();
    w.saveFacing(facing('shelf-a', 1, 5, 10));
    const first = w.flush();
    const second = w.flush();
    expect(second).toBe(first);
    await Promise.all([first, second]);
    expect(transaction).toHaveBeenCalledTimes(1);
  });

  it('two active alerts of one key are refused by the unique index (the flush fails, nothing is written)', async () => {
    const w = writer();
    w.saveAlert(lowStock('a1', 1, 10));
    w.saveAlert(lowStock('a2', 1, 20));
    w.saveFacing(facing('shelf-a', 1, 1, 20));
    await w.flush();
    expect(w.health()).toMatchObject({ ok: false, pendingWrites: 3 });
    expect(w.health().error).toContain('UNIQUE constraint failed: alerts.key');
    expect(await count('alerts')).toBe(0);
    expect(await count('facing_state')).toBe(0);
  });

  it('a resolved alert and a new active one of the same key are both written', async () => {
    const w = writer();
    const a1 = lowStock('a1', 1, 10);
    w.saveAlert(a1);
    await w.flush();
    w.saveAlert(resolveAlert(a1, 'system', 'restocked', 20));
    w.saveAlert(lowStock('a2', 1, 30));
    await w.flush();
    expect(w.health().ok).toBe(true);
    expect((await alerts.loadActive()).map((a) => a.id)).toEqual(['a2']);
  });

  it('prunes history to maxHistoryRows once 2000 rows were written since the last prune', async () => {
    const w = writer({ maxHistoryRows: 100 });
    const batch = async (round: number) => {
      for (let n = 0; n < 210; n++) w.saveFacing(facing(`shelf-${n}`, 1, 5, round * 1_000 + n));
      await w.flush();
    };
    for (let round = 0; round < 9; round++) await batch(round);
    expect(await count('shelf_history')).toBe(1_890); // not yet 2000 rows: no prune
    await batch(9);
    expect(await count('shelf_history')).toBe(100); // 2100 written: pruned to the newest 100
    const oldest = await db.get<{ ts: number }>('SELECT min(ts) AS ts FROM shelf_history');
    expect(oldest?.ts).toBe(9_000 + 110);
    expect(await count('facing_state')).toBe(210);
  });
});

describe('StateWriter when the disk refuses', () => {
  it('keeps changes pending, reports the error, and writes them once the disk works again', async () => {
    const w = writer();
    failing = true;
    const a = lowStock('a1', 1, 10);
    w.saveAlert(a);
    w.saveFacing(facing('shelf-a', 1, 2, 10));
    await w.flush();
    expect(w.health()).toEqual({ ok: false, error: 'SQLITE_FULL: database or disk is full', pendingWrites: 2, lastFlushAt: null });
    expect(await metrics.value('smartstore_storage_write_errors_total')).toBe(1);
    expect(await metrics.value('smartstore_storage_pending_writes')).toBe(2);

    // newer changes while failing win over the failed batch
    w.saveAlert(acknowledgeAlert(a, 'ann', 20));
    w.saveFacing(facing('shelf-a', 1, 1, 20));
    w.saveFacing(facing('shelf-b', 1, 8, 20));
    await w.flush();
    expect(w.health()).toMatchObject({ ok: false, pendingWrites: 3 });
    expect(await metrics.value('smartstore_storage_write_errors_total')).toBe(2);
    expect(await count('alerts')).toBe(0);

    failing = false;
    await w.flush();
    const health = w.health();
    expect(health.ok).toBe(true);
    expect(health.error).toBeUndefined();
    expect(health.pendingWrites).toBe(0);
    expect(health.lastFlushAt).not.toBeNull();
    expect(await alerts.get('a1')).toEqual(acknowledgeAlert(a, 'ann', 20));
    expect((await new FacingStateStore(db).loadAll()).map((f) => [f.shelfId, f.units])).toEqual([
      ['shelf-a', 1],
      ['shelf-b', 8],
    ]);
    expect(await metrics.value('smartstore_storage_pending_writes')).toBe(0);
  });

  it('past maxPendingWrites the oldest resolved alert is given up, active ones never', async () => {
    const w = writer({ maxPendingWrites: 100 });
    failing = true;
    for (let i = 0; i < 100; i++) w.saveAlert(resolveAlert(assist(`r${i}`, `k${i}`, 1), 'x', 'r', 2));
    for (let i = 0; i < 5; i++) w.saveAlert(lowStock(`a${i}`, i, 3));
    expect(w.health().pendingWrites).toBe(100);
    expect(await metrics.value('smartstore_storage_dropped_writes_total')).toBe(5);
    failing = false;
    await w.flush();
    expect((await alerts.loadActive()).map((a) => a.id)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
    expect(await alerts.get('r0')).toBeUndefined();
    expect(await alerts.get('r5')).toBeDefined();
  });

  it('giving up a resolution whose key has a newer active alert must not block every later flush', async () => {
    const w = writer({ maxPendingWrites: 100 });
    const old = lowStock('old', 1, 10);
    w.saveAlert(old);
    await w.flush(); // on disk: 'old' is active for low-stock:shelf-a/1

    failing = true; // the disk is full for a while; meanwhile the facing is restocked and runs low again
    w.saveAlert(resolveAlert(old, 'system', 'restocked', 20));
    w.saveAlert(lowStock('new', 1, 30));
    for (let i = 0; i < 99; i++) w.saveAlert(assist(`k${i}`, `kiosk-${i}`, 40)); // other alerts fill the queue
    await w.flush();

    failing = false; // the disk works again
    await w.flush();
    w.saveFacing(facing('shelf-a', 2, 6, 50));
    await w.flush();
    // today: every flush fails with "UNIQUE constraint failed: alerts.key" — 'new' cannot be inserted while the
    // dropped resolution leaves 'old' active on disk — and nothing (alerts, facings, last-seen) is ever written again
    expect(w.health()).toEqual({ ok: true, pendingWrites: 0, lastFlushAt: expect.any(Number) });
    expect((await alerts.loadActive()).filter((a) => a.key === 'low-stock:shelf-a/1').map((a) => a.id)).toEqual(['new']);
  });

  it('stop() writes what is pending', async () => {
    const w = writer({ flushIntervalMs: 50 });
    w.start();
    w.saveFacing(facing('shelf-a', 1, 5, 10));
    await w.stop();
    expect(await count('facing_state')).toBe(1);
  });

  it('the timer flushes every flushIntervalMs', async () => {
    const w = writer({ flushIntervalMs: 50 });
    w.start();
    try {
      w.saveFacing(facing('shelf-a', 1, 5, 10));
      await vi.waitFor(async () => expect(await count('facing_state')).toBe(1), { timeout: 2_000, interval: 20 });
    } finally {
      await w.stop();
    }
  });
});
