import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AlertStore, alertWrites } from '../../../edge/alerts/alert-store.js';
import { acknowledgeAlert, openAlert, resolveAlert, type Alert } from '../../../edge/alerts/alerts.js';
import { DeviceStore, lastSeenWrites, type DeviceLastSeen } from '../../../edge/device-registry/device-store.js';
import { GatewayMetrics } from '../../../edge/metrics/gateway-metrics.js';
import { FacingStateStore, type FacingSnapshot } from '../../../edge/stock/facing-state-store.js';
import { SqliteDatabase } from '../../../edge/storage/database.js';
import { migrate } from '../../../edge/storage/migrate.js';
import {
  CommitRefusedError,
  WriteBehindWriter,
  type PendingWrites,
  type WriteBehindOptions,
  type WriterMetrics,
  type WriteSet,
} from '../../../edge/storage/write-behind.js';

let dir: string;
let db: SqliteDatabase;
let metrics: GatewayMetrics;
let alerts: AlertStore;
/** flips the database into refusing transactions, as a full or read-only disk would */
let failing: boolean;
let flakyDb: SqliteDatabase;
/** error-level log lines the writer wrote */
let logged: Array<Record<string, unknown>>;

const OPTIONS: WriteBehindOptions = { flushIntervalMs: 60_000, maxPendingWrites: 100 };
const FULL = 'SQLITE_FULL: database or disk is full';

function writer(options: Partial<WriteBehindOptions> = {}, writerMetrics: WriterMetrics = metrics.writerMetrics()): WriteBehindWriter {
  const log = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) });
  return new WriteBehindWriter(flakyDb, { ...OPTIONS, ...options }, writerMetrics, log);
}

/** The sets the rooms register, in the composition root's order: devices, alerts, stock. */
function gatewaySets(w: WriteBehindWriter, maxHistoryRows = 100) {
  return {
    lastSeen: w.register(lastSeenWrites),
    alerts: w.register(alertWrites),
    facings: w.register(FacingStateStore.writes({ maxHistoryRows })),
  };
}

const saveAlert = (writes: PendingWrites<Alert>, alert: Alert) => writes.put(alert.id, alert);
const saveFacing = (writes: PendingWrites<FacingSnapshot>, f: FacingSnapshot) => writes.put(`${f.shelfId}/${f.facing}`, f);

/** A set writing `key → value` rows to a table of the test's own, so the writer is tested without any room. */
function notesSet(
  options: { name?: string; evictable?: (value: string) => boolean; beforeWrite?: () => Promise<void> } = {},
): WriteSet<string> & { batches: string[][] } {
  const batches: string[][] = [];
  return {
    name: options.name ?? 'notes',
    batches,
    async write(tx, values) {
      batches.push(values);
      await options.beforeWrite?.();
      await tx.runMany(
        'INSERT INTO notes (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v',
        values.map((v) => [v.split('=')[0]!, v]),
      );
    },
    ...(options.evictable ? { evictable: options.evictable } : {}),
  };
}
const notes = async () => (await db.all<{ v: string }>('SELECT v FROM notes ORDER BY k')).map((row) => row.v);

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smartstore-writer-test-'));
  db = new SqliteDatabase(join(dir, 'gateway.db'));
  await db.open();
  await migrate(db);
  await db.exec('CREATE TABLE notes (k TEXT PRIMARY KEY, v TEXT NOT NULL)');
  metrics = new GatewayMetrics({ channels: [], defaultMetrics: false });
  alerts = new AlertStore(db);
  failing = false;
  logged = [];
  flakyDb = new Proxy(db, {
    get(target, property) {
      if (property === 'transaction' && failing) return () => Promise.reject(new Error(FULL));
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value.bind(target) as unknown) : value;
    },
  });
});

afterEach(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

const lowStock = (id: string, facing: number, at: number): Alert =>
  openAlert(
    {
      kind: 'low-stock',
      key: `low-stock:shelf-a/${facing}`,
      severity: 'warning',
      title: `low ${facing}`,
      shelfId: 'shelf-a',
      facing,
      sku: 'sku-1',
      units: 2,
    },
    id,
    at,
  );
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

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('AlertStore round trip through the writer', () => {
  it('an alert with every field comes back equal; one with none has no extra keys', async () => {
    const full: Alert = {
      ...resolveAlert(acknowledgeAlert(lowStock('a1', 1, 10), 'ann', 20), 'bob', 'restocked', 30),
      deviceId: 'shelf-a',
      snoozedUntil: 25,
    };
    const bare = assist('a2', 'k1', 40);
    const w = writer();
    const sets = gatewaySets(w);
    saveAlert(sets.alerts, full);
    saveAlert(sets.alerts, bare);
    await w.flush();
    expect(await alerts.get('a1')).toEqual(full);
    expect(await alerts.get('a2')).toEqual(bare);
    expect(Object.keys((await alerts.get('a2'))!).sort()).toEqual(Object.keys(bare).sort());
    expect(await alerts.get('nope')).toBeUndefined();
  });

  it('loadActive returns unresolved alerts by opening time; listResolved newest first, by kind, limited', async () => {
    const w = writer();
    const sets = gatewaySets(w);
    saveAlert(sets.alerts, lowStock('late', 2, 300));
    saveAlert(sets.alerts, assist('early', 'k1', 100));
    saveAlert(sets.alerts, resolveAlert(lowStock('r1', 3, 10), 'x', 'r', 500));
    saveAlert(sets.alerts, resolveAlert(assist('r2', 'k2', 10), 'x', 'r', 700));
    saveAlert(sets.alerts, resolveAlert(lowStock('r3', 4, 10), 'x', 'r', 600));
    await w.flush();
    expect((await alerts.loadActive()).map((a) => a.id)).toEqual(['early', 'late']);
    expect((await alerts.listResolved({ limit: 10 })).map((a) => a.id)).toEqual(['r2', 'r3', 'r1']);
    expect((await alerts.listResolved({ kind: 'low-stock', limit: 10 })).map((a) => a.id)).toEqual(['r3', 'r1']);
    expect((await alerts.listResolved({ limit: 1 })).map((a) => a.id)).toEqual(['r2']);
  });
});

describe('WriteBehindWriter.flush', () => {
  it('writes every registered set (alerts, facing state and history, last-seen times) in one transaction', async () => {
    await new DeviceStore(db).insert({
      id: 'shelf-a',
      kind: 'shelf',
      secretHash: Buffer.alloc(32),
      secretSalt: Buffer.alloc(16),
      scryptN: 1024,
      createdAt: 1,
      disabledAt: null,
      lastSeenAt: null,
    });
    const transaction = vi.spyOn(db, 'transaction');
    const w = writer();
    const sets = gatewaySets(w);
    saveAlert(sets.alerts, lowStock('a1', 1, 10));
    saveFacing(sets.facings, facing('shelf-a', 1, 2, 10));
    saveFacing(sets.facings, facing('shelf-a', 2, 7, 11));
    sets.lastSeen.put('shelf-a', { deviceId: 'shelf-a', lastSeenAt: 12, connected: true } satisfies DeviceLastSeen);
    expect(w.health()).toEqual({ ok: true, pendingWrites: 4, lastFlushAt: null });

    expect(await w.flush()).toBe(true);

    expect(transaction).toHaveBeenCalledTimes(1);
    expect(await alerts.get('a1')).toEqual(lowStock('a1', 1, 10));
    expect(await new FacingStateStore(db).loadAll()).toEqual([facing('shelf-a', 1, 2, 10), facing('shelf-a', 2, 7, 11)]);
    expect(await db.all('SELECT shelf_id, facing, ts, weight_g, units FROM shelf_history ORDER BY id')).toEqual([
      { shelf_id: 'shelf-a', facing: 1, ts: 10, weight_g: 200, units: 2 },
      { shelf_id: 'shelf-a', facing: 2, ts: 11, weight_g: 700, units: 7 },
    ]);
    expect(await db.get('SELECT last_seen_at, connected FROM devices WHERE id = ?', ['shelf-a'])).toEqual({
      last_seen_at: 12,
      connected: 1,
    });
    const health = w.health();
    expect(health.ok).toBe(true);
    expect(health.pendingWrites).toBe(0);
    expect(typeof health.lastFlushAt).toBe('number');
    expect(await metrics.value('smartstore_storage_pending_writes')).toBe(0);
  });

  it('writes sets in the order they were registered, each value latest per key in the order keys first changed', async () => {
    const w = writer();
    const first = notesSet({ name: 'first' });
    const second = notesSet({ name: 'second' });
    const order: string[] = [];
    const a = w.register({ ...first, write: (tx, values) => (order.push('first'), first.write(tx, values)) });
    const b = w.register({ ...second, write: (tx, values) => (order.push('second'), second.write(tx, values)) });
    b.put('y', 'y=1');
    a.put('x', 'x=1');
    a.put('z', 'z=1');
    a.put('x', 'x=2');
    await w.flush();
    expect(order).toEqual(['first', 'second']);
    // a key put again moves behind the others: its latest value is written after the ones changed since
    expect(first.batches).toEqual([['z=1', 'x=2']]);
    expect(second.batches).toEqual([['y=1']]);
    expect(await notes()).toEqual(['x=2', 'y=1', 'z=1']);
  });

  it('a set with nothing pending is not called', async () => {
    const w = writer();
    const idle = notesSet({ name: 'idle' });
    w.register(idle);
    w.register(notesSet()).put('a', 'a=1');
    await w.flush();
    expect(idle.batches).toEqual([]);
  });

  it('coalesces: the latest change of an alert and of a facing wins, one history row per facing per flush', async () => {
    const w = writer();
    const sets = gatewaySets(w);
    const a = lowStock('a1', 1, 10);
    saveAlert(sets.alerts, a);
    saveAlert(sets.alerts, acknowledgeAlert(a, 'ann', 20));
    saveFacing(sets.facings, facing('shelf-a', 1, 5, 10));
    saveFacing(sets.facings, facing('shelf-a', 1, 4, 20));
    saveFacing(sets.facings, facing('shelf-a', 1, 3, 30));
    expect(w.health().pendingWrites).toBe(2);
    await w.flush();
    expect((await alerts.get('a1'))?.state).toBe('acknowledged');
    expect(await count('alerts')).toBe(1);
    expect(await count('shelf_history')).toBe(1);
    expect((await new FacingStateStore(db).loadAll())[0]?.units).toBe(3);
  });

  it('a later flush updates rows in place', async () => {
    const w = writer();
    const sets = gatewaySets(w);
    const a = lowStock('a1', 1, 10);
    saveAlert(sets.alerts, a);
    saveFacing(sets.facings, facing('shelf-a', 1, 5, 10));
    await w.flush();
    saveAlert(sets.alerts, resolveAlert(a, 'system', 'restocked', 50));
    saveFacing(sets.facings, facing('shelf-a', 1, 9, 50));
    await w.flush();
    expect(await alerts.get('a1')).toMatchObject({ state: 'resolved', resolvedAt: 50 });
    expect(await count('alerts')).toBe(1);
    expect(await count('facing_state')).toBe(1);
    expect(await count('shelf_history')).toBe(2);
  });

  it('with nothing pending, flush does not touch the database', async () => {
    const transaction = vi.spyOn(db, 'transaction');
    const w = writer();
    gatewaySets(w);
    expect(await w.flush()).toBe(true);
    expect(transaction).not.toHaveBeenCalled();
  });

  it('concurrent flush calls share the flush under way', async () => {
    const transaction = vi.spyOn(db, 'transaction');
    const w = writer();
    const sets = gatewaySets(w);
    saveFacing(sets.facings, facing('shelf-a', 1, 5, 10));
    const first = w.flush();
    const second = w.flush();
    expect(second).toBe(first);
    await Promise.all([first, second]);
    expect(transaction).toHaveBeenCalledTimes(1);
  });

  it('two active alerts of one key are refused by the unique index (the flush fails, nothing is written)', async () => {
    const w = writer();
    const sets = gatewaySets(w);
    saveAlert(sets.alerts, lowStock('a1', 1, 10));
    saveAlert(sets.alerts, lowStock('a2', 1, 20));
    saveFacing(sets.facings, facing('shelf-a', 1, 1, 20));
    expect(await w.flush()).toBe(false);
    expect(w.health()).toMatchObject({ ok: false, pendingWrites: 3 });
    expect(w.health().error).toContain('UNIQUE constraint failed: alerts.key');
    expect(await count('alerts')).toBe(0);
    expect(await count('facing_state')).toBe(0);
  });

  it('health counts the changes a retry is writing as unwritten (a failed flush gave them back; the retry took them)', async () => {
    const w = writer();
    const sets = gatewaySets(w);
    saveAlert(sets.alerts, lowStock('a1', 1, 10));
    saveAlert(sets.alerts, lowStock('a2', 1, 20));
    saveFacing(sets.facings, facing('shelf-a', 1, 1, 20));
    expect(await w.flush()).toBe(false);
    // the retry starts: its transaction holds the three changes, none is pending any more
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const transaction = db.transaction.bind(db);
    vi.spyOn(db, 'transaction').mockImplementationOnce(async (work) => {
      await held;
      return transaction(work);
    });
    const retry = w.flush();
    expect(w.health()).toMatchObject({ ok: false, pendingWrites: 3 });
    release();
    expect(await retry).toBe(false);
    expect(w.health()).toMatchObject({ ok: false, pendingWrites: 3 });
  });

  it('a resolved alert and a new active one of the same key are both written', async () => {
    const w = writer();
    const sets = gatewaySets(w);
    const a1 = lowStock('a1', 1, 10);
    saveAlert(sets.alerts, a1);
    await w.flush();
    saveAlert(sets.alerts, resolveAlert(a1, 'system', 'restocked', 20));
    saveAlert(sets.alerts, lowStock('a2', 1, 30));
    await w.flush();
    expect(w.health().ok).toBe(true);
    expect((await alerts.loadActive()).map((a) => a.id)).toEqual(['a2']);
  });

  it('prunes history to maxHistoryRows once 2000 rows were written since the last prune', async () => {
    const w = writer();
    const sets = gatewaySets(w, 100);
    const batch = async (round: number) => {
      for (let n = 0; n < 210; n++) saveFacing(sets.facings, facing(`shelf-${n}`, 1, 5, round * 1_000 + n));
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

  it('reports through its metrics callbacks: one timed flush each, failures, the pending count', async () => {
    const calls: string[] = [];
    const w = writer(
      {},
      {
        flushTimer: () => {
          calls.push('timer');
          return () => calls.push('timer-end');
        },
        writeFailed: () => calls.push('failed'),
        pending: (n) => calls.push(`pending ${n}`),
        dropped: () => calls.push('dropped'),
      },
    );
    const set = w.register(notesSet());
    set.put('a', 'a=1');
    set.put('b', 'b=1');
    await w.flush();
    failing = true;
    set.put('c', 'c=1');
    await w.flush();
    expect(calls).toEqual([
      'pending 1',
      'pending 2',
      'timer',
      'timer-end',
      'pending 0',
      'pending 1',
      'timer',
      'failed',
      'timer-end',
      'pending 1',
    ]);
  });
});

describe('WriteBehindWriter when the disk refuses', () => {
  it('keeps changes pending, reports the error, and writes them once the disk works again', async () => {
    const w = writer();
    const sets = gatewaySets(w);
    failing = true;
    const a = lowStock('a1', 1, 10);
    saveAlert(sets.alerts, a);
    saveFacing(sets.facings, facing('shelf-a', 1, 2, 10));
    expect(await w.flush()).toBe(false);
    expect(w.health()).toEqual({ ok: false, error: FULL, pendingWrites: 2, lastFlushAt: null });
    expect(await metrics.value('smartstore_storage_write_errors_total')).toBe(1);
    expect(await metrics.value('smartstore_storage_pending_writes')).toBe(2);
    expect(logged.filter((line) => line.msg === 'storage write failed; changes kept in memory and retried')).toHaveLength(1);

    // newer changes while failing win over the failed batch
    saveAlert(sets.alerts, acknowledgeAlert(a, 'ann', 20));
    saveFacing(sets.facings, facing('shelf-a', 1, 1, 20));
    saveFacing(sets.facings, facing('shelf-b', 1, 8, 20));
    await w.flush();
    expect(w.health()).toMatchObject({ ok: false, pendingWrites: 3 });
    expect(await metrics.value('smartstore_storage_write_errors_total')).toBe(2);
    expect(await count('alerts')).toBe(0);
    // the same error again is not logged again
    expect(logged.filter((line) => line.msg === 'storage write failed; changes kept in memory and retried')).toHaveLength(1);

    failing = false;
    expect(await w.flush()).toBe(true);
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
    expect(logged.map((line) => line.msg)).toContain('storage writes succeed again');
  });

  it('a value put while a failing flush is under way wins over the failed batch', async () => {
    const started = deferred();
    const release = deferred();
    const w = writer();
    let refuse = true;
    const set = w.register(
      notesSet({
        beforeWrite: async () => {
          started.resolve();
          await release.promise;
          if (refuse) throw new Error(FULL);
        },
      }),
    );
    set.put('a', 'a=old');
    set.put('b', 'b=old');
    const flushing = w.flush();
    await started.promise;
    set.put('a', 'a=new');
    release.resolve();
    expect(await flushing).toBe(false);
    expect(w.health().pendingWrites).toBe(2);
    refuse = false;
    await w.flush();
    expect(await notes()).toEqual(['a=new', 'b=old']);
  });

  it('past maxPendingWrites the oldest resolved alert is given up, active ones never', async () => {
    const w = writer({ maxPendingWrites: 100 });
    const sets = gatewaySets(w);
    failing = true;
    for (let i = 0; i < 100; i++) saveAlert(sets.alerts, resolveAlert(assist(`r${i}`, `k${i}`, 1), 'x', 'r', 2));
    for (let i = 0; i < 5; i++) saveAlert(sets.alerts, lowStock(`a${i}`, i, 3));
    expect(w.health().pendingWrites).toBe(100);
    expect(await metrics.value('smartstore_storage_dropped_writes_total')).toBe(5);
    failing = false;
    await w.flush();
    expect((await alerts.loadActive()).map((a) => a.id)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
    expect(await alerts.get('r0')).toBeUndefined();
    expect(await alerts.get('r5')).toBeDefined();
  });

  it('a failed flush that leaves more than the bound pending gives up evictable values down to the bound', async () => {
    const w = writer({ maxPendingWrites: 3 });
    const kept = w.register(notesSet({ name: 'kept' }));
    const optional = w.register(notesSet({ name: 'optional', evictable: (v) => v.endsWith('=done') }));
    const release = deferred();
    const started = deferred();
    const gated = w.register(
      notesSet({
        name: 'gated',
        beforeWrite: async () => {
          started.resolve();
          await release.promise;
          throw new Error(FULL);
        },
      }),
    );
    optional.put('o1', 'o1=done');
    optional.put('o2', 'o2=done');
    gated.put('g', 'g=1');
    const flushing = w.flush();
    await started.promise;
    // while the batch is out, the queue looks short: nothing is evicted yet
    kept.put('k1', 'k1=1');
    kept.put('k2', 'k2=1');
    kept.put('k3', 'k3=1');
    expect(await metrics.value('smartstore_storage_dropped_writes_total')).toBe(0);
    release.resolve();
    await flushing;
    // 6 pending after the failed batch came back, bound 3: both evictable values go, the rest stays
    expect(await metrics.value('smartstore_storage_dropped_writes_total')).toBe(2);
    expect(w.health().pendingWrites).toBe(4);
  });

  it('sets without evictable values are never given up, even past the bound', async () => {
    const w = writer({ maxPendingWrites: 2 });
    const sets = gatewaySets(w);
    failing = true;
    for (let n = 1; n <= 4; n++) saveFacing(sets.facings, facing('shelf-a', n, n, 10));
    await w.flush();
    expect(w.health().pendingWrites).toBe(4);
    expect(await metrics.value('smartstore_storage_dropped_writes_total')).toBe(0);
    failing = false;
    await w.flush();
    expect(await count('facing_state')).toBe(4);
  });

  it('giving up a resolution whose key has a newer active alert must not block every later flush', async () => {
    const w = writer({ maxPendingWrites: 100 });
    const sets = gatewaySets(w);
    const old = lowStock('old', 1, 10);
    saveAlert(sets.alerts, old);
    await w.flush(); // on disk: 'old' is active for low-stock:shelf-a/1

    failing = true; // the disk is full for a while; meanwhile the facing is restocked and runs low again
    saveAlert(sets.alerts, resolveAlert(old, 'system', 'restocked', 20));
    saveAlert(sets.alerts, lowStock('new', 1, 30));
    for (let i = 0; i < 99; i++) saveAlert(sets.alerts, assist(`k${i}`, `kiosk-${i}`, 40)); // other alerts fill the queue
    await w.flush();

    failing = false; // the disk works again
    await w.flush();
    saveFacing(sets.facings, facing('shelf-a', 2, 6, 50));
    await w.flush();
    expect(w.health()).toEqual({ ok: true, pendingWrites: 0, lastFlushAt: expect.any(Number) as number });
    expect((await alerts.loadActive()).filter((a) => a.key === 'low-stock:shelf-a/1').map((a) => a.id)).toEqual(['new']);
  });
});

describe('WriteBehindWriter.start and stop', () => {
  it('stop() writes what is pending', async () => {
    const w = writer({ flushIntervalMs: 50 });
    const sets = gatewaySets(w);
    w.start();
    saveFacing(sets.facings, facing('shelf-a', 1, 5, 10));
    expect(await w.stop()).toEqual({ written: 1, unwritten: 0 });
    expect(await count('facing_state')).toBe(1);
  });

  it('the timer flushes every flushIntervalMs', async () => {
    const w = writer({ flushIntervalMs: 50 });
    const sets = gatewaySets(w);
    w.start();
    try {
      saveFacing(sets.facings, facing('shelf-a', 1, 5, 10));
      await vi.waitFor(async () => expect(await count('facing_state')).toBe(1), { timeout: 2_000, interval: 20 });
    } finally {
      await w.stop();
    }
  });

  it('stop during an in-flight flush loses nothing: the batch under way and every change put meanwhile reach the database', async () => {
    const started = deferred();
    const release = deferred();
    const w = writer();
    let gate = true;
    const set = w.register(
      notesSet({
        beforeWrite: async () => {
          if (!gate) return;
          gate = false;
          started.resolve();
          await release.promise;
        },
      }),
    );
    const sets = gatewaySets(w);
    set.put('a', 'a=1');
    set.put('b', 'b=1');
    saveFacing(sets.facings, facing('shelf-a', 1, 5, 10));
    const flushing = w.flush();
    await started.promise; // the first batch is inside its transaction

    // changes made while it is under way: newer values of keys in the batch, and new keys
    set.put('a', 'a=2');
    set.put('c', 'c=1');
    saveFacing(sets.facings, facing('shelf-a', 1, 4, 20));
    saveFacing(sets.facings, facing('shelf-b', 1, 8, 20));
    saveAlert(sets.alerts, lowStock('a1', 1, 20));
    const stopping = w.stop();
    release.resolve();

    const result = await stopping;
    expect(await flushing).toBe(true);
    expect(result.unwritten).toBe(0);
    expect(await notes()).toEqual(['a=2', 'b=1', 'c=1']);
    expect((await new FacingStateStore(db).loadAll()).map((f) => [f.shelfId, f.units])).toEqual([
      ['shelf-a', 4],
      ['shelf-b', 8],
    ]);
    expect(await count('shelf_history')).toBe(3);
    expect((await alerts.loadActive()).map((a) => a.id)).toEqual(['a1']);
    expect(w.health()).toMatchObject({ ok: true, pendingWrites: 0 });
    expect(logged.filter((line) => line.level === 50)).toEqual([]);
  });

  it('stop while the in-flight flush fails writes its batch and the newer changes once the disk takes them', async () => {
    const started = deferred();
    const release = deferred();
    const w = writer();
    let refuse = true;
    const set = w.register(
      notesSet({
        beforeWrite: async () => {
          if (!refuse) return;
          refuse = false; // the disk refuses this one transaction
          started.resolve();
          await release.promise;
          throw new Error(FULL);
        },
      }),
    );
    set.put('a', 'a=1');
    set.put('b', 'b=1');
    const flushing = w.flush();
    await started.promise;
    set.put('a', 'a=2');
    set.put('c', 'c=1');
    const stopping = w.stop();
    release.resolve();
    expect(await flushing).toBe(false);
    expect(await stopping).toEqual({ written: 3, unwritten: 0 });
    expect(await notes()).toEqual(['a=2', 'b=1', 'c=1']);
    expect(w.health()).toMatchObject({ ok: true, pendingWrites: 0 });
  });

  it('stop while the disk refuses writes returns and logs how many changes are left unwritten', async () => {
    const w = writer({ flushIntervalMs: 50 });
    const sets = gatewaySets(w);
    w.start();
    failing = true;
    saveAlert(sets.alerts, lowStock('a1', 1, 10));
    saveFacing(sets.facings, facing('shelf-a', 1, 2, 10));
    saveFacing(sets.facings, facing('shelf-a', 2, 3, 10));

    expect(await w.stop()).toEqual({ written: 0, unwritten: 3 });

    expect(logged).toContainEqual(
      expect.objectContaining({ level: 50, msg: 'stopping with changes that could not be written', unwritten: 3, error: FULL }),
    );
    expect(w.health()).toMatchObject({ ok: false, error: FULL, pendingWrites: 3 });
    expect(await count('alerts')).toBe(0);
    expect(await count('facing_state')).toBe(0);
  });

  it('stop after the database was closed writes nothing and says so', async () => {
    const w = writer();
    const set = w.register(notesSet());
    set.put('a', 'a=1');
    set.put('b', 'b=1');
    await db.close();
    expect(await w.stop()).toEqual({ written: 0, unwritten: 2 });
    expect(logged).toContainEqual(expect.objectContaining({ msg: 'stopping with changes that could not be written', unwritten: 2 }));
    await db.open(); // for afterEach
  });
});

describe('commit: durable before acknowledged, grouped', () => {
  it('resolves once the changes put before it are committed; callers of one tick share one transaction', async () => {
    const set = notesSet();
    const w = writer();
    const notesWrites = w.register(set);
    const commits = [];
    for (let i = 0; i < 20; i++) {
      notesWrites.put(`k${i}`, `k${i}=v`);
      commits.push(w.commit());
    }
    await Promise.all(commits);
    expect(set.batches).toHaveLength(1);
    expect(await notes()).toHaveLength(20);
  });

  it('a caller that arrives while a flush is under way waits for the next one, which holds its change', async () => {
    const gate = deferred();
    let firstWrite = true;
    const set = notesSet({ beforeWrite: () => (firstWrite ? ((firstWrite = false), gate.promise) : Promise.resolve()) });
    const w = writer();
    const notesWrites = w.register(set);
    notesWrites.put('a', 'a=1');
    const first = w.commit();
    await eventuallyTrue(() => set.batches.length === 1);
    notesWrites.put('b', 'b=1');
    let secondDone = false;
    const second = w.commit().then(() => (secondDone = true));
    gate.resolve();
    await first;
    // The continuation of `first` runs before any I/O callback, so the second flush cannot have committed yet; reading the
    // table here instead would race that flush (it failed once in CI when the read came back after it).
    expect(secondDone).toBe(false);
    await second;
    expect(secondDone).toBe(true);
    expect(await notes()).toEqual(['a=1', 'b=1']);
    expect(set.batches).toEqual([['a=1'], ['b=1']]);
  });

  it('a failed transaction rejects its callers with the storage error as cause, keeps the changes and commits them later', async () => {
    const w = writer();
    const notesWrites = w.register(notesSet());
    failing = true;
    notesWrites.put('a', 'a=1');
    const refused = await w.commit().catch((error: unknown) => error as Error & { cause?: Error });
    expect(refused).toBeInstanceOf(CommitRefusedError);
    expect(refused?.cause?.message).toBe(FULL);
    expect(await notes()).toEqual([]);
    failing = false;
    await w.commit();
    expect(await notes()).toEqual(['a=1']);
  });

  it('a participant writes in the same transaction as the sets and takes back what a failed one did not write', async () => {
    const w = writer();
    const notesWrites = w.register(notesSet());
    let journal: string[] = [];
    const committed: string[][] = [];
    w.participate<string[]>({
      name: 'journal',
      pending: () => journal.length,
      take: () => journal.splice(0),
      write: async (tx, entries) =>
        tx.runMany(
          'INSERT INTO notes (k, v) VALUES (?, ?)',
          entries.map((entry) => [`j-${entry}`, entry]),
        ),
      restore: (entries) => (journal = entries.concat(journal)),
      committed: (entries) => committed.push(entries),
    });
    failing = true;
    notesWrites.put('a', 'a=1');
    journal.push('first');
    await expect(w.commit()).rejects.toThrow(CommitRefusedError);
    journal.push('second');
    expect(journal).toEqual(['first', 'second']);
    failing = false;
    await w.commit();
    expect(await notes()).toEqual(['a=1', 'first', 'second']);
    expect(committed).toEqual([['first', 'second']]);
  });
});

async function eventuallyTrue(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(check()).toBe(true);
}
