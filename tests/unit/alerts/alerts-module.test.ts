/**
 * AlertsModule: the low-stock policy applied to stock events, with the clock injected and the module's periodic check
 * called by hand; silences persisted in a real SQLite database (temp dir), so a "restart" is a new module on it.
 */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Alert, AlertChange } from '../../../edge/alerts/alerts.js';
import { AlertsModule } from '../../../edge/alerts/module.js';
import { GatewayBus } from '../../../edge/core/events.js';
import type { FacingStockView } from '../../../edge/stock/shelf-stock-book.js';
import type { StockLevel } from '../../../edge/stock/stock.js';
import type { SqliteDatabase } from '../../../edge/storage/database.js';
import { WriteBehindWriter } from '../../../edge/storage/write-behind.js';
import { migratedDatabase, type MigratedDatabase } from '../../helpers/migrated-database.js';

const silent = pino({ level: 'silent' });
const REARM_MS = 30 * 60_000;
const KEY = 'low-stock:shelf-a/1';

let fixture: MigratedDatabase;
let db: SqliteDatabase;
let writer: WriteBehindWriter;
let bus: GatewayBus;
let clock: number;
let ids: number;
let changes: AlertChange[];
let handlerErrors: unknown[];
let facing: FacingStockView;
let modules: AlertsModule[];

const writerMetrics = {
  flushTimer: () => () => undefined,
  writeFailed: () => undefined,
  pending: () => undefined,
  dropped: () => undefined,
};

async function startModule(): Promise<AlertsModule> {
  writer = new WriteBehindWriter(db, { flushIntervalMs: 60_000, maxPendingWrites: 1_000 }, writerMetrics, silent);
  bus = new GatewayBus({ onHandlerError: ({ error }) => handlerErrors.push(error) });
  bus.on('alert.changed', 'test', (change) => changes.push(change));
  const module = new AlertsModule({
    bus,
    db,
    writer,
    now: () => clock,
    newId: () => `alert-${++ids}`,
    log: silent,
    metrics: { alertOpened: () => undefined, activeAlerts: () => undefined },
    snoozeCheckMs: 3_600_000,
    lowStock: { rearmAfterMs: REARM_MS },
    facingStock: (shelfId, n) => (shelfId === facing.shelfId && n === facing.facing ? { ...facing } : undefined),
  });
  await module.start();
  modules.push(module);
  return module;
}

/** Stops the module and writes what it left pending, as the gateway's stop does. */
async function restart(module: AlertsModule): Promise<AlertsModule> {
  await module.stop();
  await writer.stop();
  return startModule();
}

/** The stock room's events for shelf-a/1, as StockModule publishes them. */
function units(next: number): void {
  const previousUnits = facing.units;
  facing = { ...facing, units: next };
  bus.emit('stock.changed', { view: { ...facing }, cause: 'quantity', previousUnits });
}
function level(next: StockLevel): void {
  facing = { ...facing, level: next };
  bus.emit('stock.changed', { view: { ...facing }, cause: 'level', previousUnits: facing.units });
  bus.emit('stock.level', { view: { ...facing }, level: next, units: facing.units ?? 0, at: clock });
}

const active = (module: AlertsModule): Alert | undefined => module.service.activeByKey(KEY);

beforeEach(async () => {
  fixture = await migratedDatabase('smartstore-alerts-module-');
  db = fixture.db;
  clock = 1_000_000;
  ids = 0;
  changes = [];
  handlerErrors = [];
  modules = [];
  facing = {
    shelfId: 'shelf-a',
    facing: 1,
    sku: 'milk',
    name: 'Oat milk 1 l',
    units: 6,
    weightG: 6_240,
    capacityUnits: 10,
    lowStockUnits: 2,
    restockUnits: 5,
    level: 'ok',
    source: 'weight',
    updatedAt: 0,
  };
});

afterEach(async () => {
  for (const module of modules) await module.stop();
  await writer.stop();
  await fixture.dispose();
  expect(handlerErrors).toEqual([]);
});

describe('a low-stock alert follows the shelf', () => {
  it('updates units and title as units change, escalates to out of stock at 0 — same alert, one change each', async () => {
    const module = await startModule();
    units(2);
    expect(changes).toEqual([]); // low is only signalled after the debounce
    level('low');
    const opened = active(module)!;
    expect(opened).toMatchObject({
      state: 'open',
      severity: 'warning',
      units: 2,
      title: 'Low stock: Oat milk 1 l (shelf-a facing 1), 2 left',
    });

    units(1);
    units(0);
    expect(changes.map((c) => [c.alert.id, c.alert.severity, c.alert.units, c.alert.title])).toEqual([
      [opened.id, 'warning', 2, 'Low stock: Oat milk 1 l (shelf-a facing 1), 2 left'],
      [opened.id, 'warning', 1, 'Low stock: Oat milk 1 l (shelf-a facing 1), 1 left'],
      [opened.id, 'critical', 0, 'Out of stock: Oat milk 1 l (shelf-a facing 1)'],
    ]);
    expect(changes[2]?.previous).toMatchObject({ id: opened.id, units: 1, severity: 'warning' });
    expect(module.service.activeCount).toBe(1);

    // a level event and a low signal with the same units change nothing
    level('low');
    expect(changes).toHaveLength(3);
  });

  it('escalation wakes a snoozed alert; an acknowledged one stays acknowledged', async () => {
    const module = await startModule();
    units(2);
    level('low');
    module.service.snooze(active(module)!.id, 'ann', 60);
    units(0);
    expect(active(module)).toMatchObject({ state: 'open', severity: 'critical', units: 0 });
    expect(active(module)!.snoozedUntil).toBeUndefined();

    units(1); // back to a warning: one unit returned
    module.service.acknowledge(active(module)!.id, 'ann');
    units(0);
    expect(active(module)).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'ann', severity: 'critical' });
  });

  it('a facing with units changing but no active alert raises nothing', async () => {
    await startModule();
    units(5);
    units(0);
    expect(changes).toEqual([]);
  });

  it('the ok signal resolves it as restocked', async () => {
    const module = await startModule();
    units(1);
    level('low');
    units(8);
    level('ok');
    expect(changes.at(-1)?.alert).toMatchObject({ state: 'resolved', resolvedBy: 'system', resolution: 'restocked', units: 8 });
    expect(active(module)).toBeUndefined();
  });
});

describe('a low-stock alert resolved by hand re-arms', () => {
  async function silencedByStaff(): Promise<{ module: AlertsModule; first: Alert }> {
    const module = await startModule();
    units(2);
    level('low');
    const first = module.service.resolve(active(module)!.id, 'ann', 'delivery tomorrow');
    return { module, first };
  }

  it('while silenced a low signal opens nothing; rearmAfterMs later the periodic check opens a new alert', async () => {
    const { module, first } = await silencedByStaff();
    level('low');
    units(1);
    clock += REARM_MS - 1;
    module.tick();
    expect(active(module)).toBeUndefined();
    expect(changes.filter((c) => c.previous === undefined)).toHaveLength(1);

    clock += 1;
    module.tick();
    const again = active(module)!;
    expect(again).toMatchObject({ state: 'open', units: 1, title: 'Low stock: Oat milk 1 l (shelf-a facing 1), 1 left', openedAt: clock });
    expect(again.id).not.toBe(first.id);
    // the silence ended with it: no second alert on the next check
    module.tick();
    expect(module.service.activeCount).toBe(1);
  });

  it('the facing emptying opens a new (critical) alert at once', async () => {
    const { module } = await silencedByStaff();
    units(0);
    expect(active(module)).toMatchObject({
      state: 'open',
      severity: 'critical',
      units: 0,
      title: 'Out of stock: Oat milk 1 l (shelf-a facing 1)',
    });
  });

  it('the facing turning ok ends the silence: the next low opens an alert at once', async () => {
    const { module } = await silencedByStaff();
    units(6);
    level('ok');
    units(2);
    level('low');
    expect(active(module)).toMatchObject({ state: 'open', units: 2 });
  });

  it('the silence survives a restart: the low signal after it opens nothing, emptying still does', async () => {
    let { module } = await silencedByStaff();
    module = await restart(module);
    const opened = changes.length;
    level('low'); // the debounced signal confirming the restored level
    units(1);
    module.tick();
    expect(changes).toHaveLength(opened);
    expect(active(module)).toBeUndefined();

    units(0);
    expect(active(module)).toMatchObject({ severity: 'critical', units: 0 });
    // and the silence is gone from the database too
    await restart(module);
    expect(await db.all('SELECT * FROM alert_silences')).toEqual([]);
  });

  it('rearmAfterMs counts from the resolution, across a restart', async () => {
    let { module } = await silencedByStaff();
    clock += REARM_MS / 2;
    module = await restart(module);
    module.tick();
    expect(active(module)).toBeUndefined();
    clock += REARM_MS / 2;
    module.tick();
    expect(active(module)).toMatchObject({ state: 'open', units: 2 });
  });

  it('a facing resolved by hand while it is no longer low is not silenced; neither is one resolved by the system', async () => {
    const module = await startModule();
    units(2);
    level('low');
    facing = { ...facing, level: 'ok' }; // the stock room already sees it ok, the signal is on its way
    module.service.resolve(active(module)!.id, 'ann');
    units(1);
    level('low');
    expect(active(module)).toMatchObject({ state: 'open' });
    await writer.flush();
    expect(await db.all('SELECT * FROM alert_silences')).toEqual([]);
  });
});

describe('sensor faults and kiosk alerts', () => {
  it('a faulty load cell opens one sensor-fault alert; plausible readings again resolve it by the system', async () => {
    const module = await startModule();
    const fault = { shelfId: 'shelf-a', facing: 1, sku: 'milk', weightG: 999_999, at: clock };
    bus.emit('stock.sensor-fault', { ...fault, faulty: true });
    bus.emit('stock.sensor-fault', { ...fault, faulty: true });
    expect(module.service.activeCount).toBe(1);
    expect(module.service.activeByKey('sensor-fault:shelf-a/1')).toMatchObject({
      kind: 'sensor-fault',
      severity: 'warning',
      title: 'Check the load cell on shelf-a facing 1',
      shelfId: 'shelf-a',
      facing: 1,
      sku: 'milk',
    });
    expect(module.hasSensorFault('shelf-a', 1)).toBe(true);
    expect(module.hasSensorFault('shelf-a', 2)).toBe(false);

    bus.emit('stock.sensor-fault', { ...fault, weightG: 6_240, faulty: false });
    expect(changes.at(-1)?.alert).toMatchObject({
      kind: 'sensor-fault',
      state: 'resolved',
      resolvedBy: 'system',
      resolution: 'plausible readings again',
    });
    expect(module.hasSensorFault('shelf-a', 1)).toBe(false);
  });

  it('a kiosk assistance request is critical', async () => {
    const module = await startModule();
    bus.emit('device.message:kiosk/event', {
      key: 'kiosk/event',
      deviceId: 'kiosk-1',
      payload: { type: 'assist-requested', ts: 1 },
      receivedAt: clock,
    });
    expect(module.service.activeByKey('kiosk-assist:kiosk-1')).toMatchObject({ severity: 'critical' });
  });
});
