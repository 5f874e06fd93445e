import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../../edge/alerts/alerts.js';
import { GatewayBus } from '../../../edge/core/events.js';
import { KpisModule } from '../../../edge/kpis/module.js';
import type { FacingStockView } from '../../../edge/stock/shelf-stock-book.js';
import type { SqliteDatabase } from '../../../edge/storage/database.js';
import { migratedDatabase, type MigratedDatabase } from '../../helpers/migrated-database.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 11, 1, 10);
const log = pino({ level: 'silent' });

let fixture: MigratedDatabase;
let db: SqliteDatabase;
let now = T0;
let handlerErrors: unknown[] = [];
let bus: GatewayBus;

beforeEach(async () => {
  fixture = await migratedDatabase('smartstore-shelf-kpis-');
  db = fixture.db;
  now = T0;
  handlerErrors = [];
  bus = new GatewayBus({ onHandlerError: ({ error }) => handlerErrors.push(error) });
});
afterEach(() => fixture.dispose());

const view = (facing: number, units: number | null): FacingStockView => ({
  shelfId: 'shelf-a',
  facing,
  sku: '4000000000017',
  name: 'Oat milk',
  units,
  weightG: units === null ? null : units * 1040,
  capacityUnits: 10,
  lowStockUnits: 2,
  restockUnits: 6,
  level: units === null ? 'unknown' : units <= 2 ? 'low' : 'ok',
  source: units === null ? null : 'weight',
  updatedAt: units === null ? null : now,
});
const units = (facing: number, n: number) => bus.emit('stock.changed', { view: view(facing, n), cause: 'quantity' });
const at = (ms: number) => {
  now = T0 + ms;
};

const alertOf = (id: string, kind: Alert['kind'], facing: number): Alert => ({
  id,
  kind,
  key: `${kind}:shelf-a/${facing}`,
  state: 'open',
  severity: 'warning',
  title: 't',
  shelfId: 'shelf-a',
  facing,
  openedAt: now,
  updatedAt: now,
});
const open = (alert: Alert) => bus.emit('alert.changed', { alert, previous: undefined });
const resolve = (alert: Alert, resolution: string) =>
  bus.emit('alert.changed', {
    alert: { ...alert, state: 'resolved', resolvedAt: now, resolvedBy: 'system', resolution, updatedAt: now },
    previous: alert,
  });

const startModule = async (facings?: Array<{ shelfId: string; facing: number; units: number | null }>) => {
  const module = new KpisModule({
    bus,
    db,
    now: () => now,
    log,
    timeZone: 'UTC',
    replenishTargetMs: 30 * MIN,
    ...(facings ? { facings: () => facings } : {}),
  });
  await module.start();
  return module;
};

describe('KpisModule: shelf KPIs from the bus', () => {
  it('follows units, low-stock and prediction alerts into the four KPIs; a restart keeps them and the stock-out still open', async () => {
    const module = await startModule();
    units(1, 8);
    units(2, 8);
    // facing 1: predicted at 0:10, low at 0:20, empty at 0:30 (the prediction ran empty), restocked at 0:40
    at(10 * MIN);
    const prediction = alertOf('p1', 'stock-out-predicted', 1);
    open(prediction);
    at(20 * MIN);
    units(1, 2);
    const low = alertOf('l1', 'low-stock', 1);
    open(low);
    at(30 * MIN);
    resolve(prediction, 'ran empty: the low-stock alert follows it');
    units(1, 0);
    at(40 * MIN);
    units(1, 9);
    resolve(low, 'restocked');
    // facing 2 empties unannounced at 0:50 and is still empty at 1:00
    at(50 * MIN);
    units(2, 0);
    at(HOUR);

    const expected = {
      // 2 facings × 60 min, 10 + 10 empty
      onShelfAvailability: { percent: 83.3, watchedFacingMinutes: 120, emptyFacingMinutes: 20 },
      stockOuts: { count: 2, restocked: 1, ongoing: 1, totalMs: 20 * MIN, meanMs: 10 * MIN },
      replenishmentAccuracy: { targetMs: 30 * MIN, alerts: 1, onTime: 1, pending: 0, percent: 100 },
      predictionLeadTime: { stockOuts: 2, predicted: 1, predictedPercent: 50, meanMs: 20 * MIN, p50Ms: 20 * MIN },
    };
    expect(module.kpis(HOUR)).toMatchObject(expected);
    expect(module.health()).toMatchObject({ ok: true, stockOutsBegan: 2, stockOutsEnded: 1, stockAlertSamples: 2, predictionSamples: 2 });
    await module.stop();

    const restarted = await startModule();
    expect(restarted.kpis(HOUR)).toMatchObject(expected);
    // the stock-out open at the restart ends with the next reading that shows stock
    at(70 * MIN);
    units(2, 5);
    expect(restarted.kpis(70 * MIN)).toMatchObject({
      stockOuts: { count: 2, restocked: 2, ongoing: 0, totalMs: 30 * MIN, meanMs: 15 * MIN },
      // 2 × 70 facing-minutes, 10 + 20 empty
      onShelfAvailability: { percent: 78.6, watchedFacingMinutes: 140, emptyFacingMinutes: 30 },
    });
    await restarted.stop();
    expect(handlerErrors).toEqual([]);
  });

  it("watches the stock room's facings known at start: one empty then is a stock-out, one without units is not watched", async () => {
    const module = await startModule([
      { shelfId: 'shelf-a', facing: 1, units: 0 },
      { shelfId: 'shelf-a', facing: 2, units: 4 },
      { shelfId: 'shelf-a', facing: 3, units: null },
    ]);
    at(30 * MIN);
    units(1, 6);
    at(HOUR);
    expect(module.kpis(HOUR)).toMatchObject({
      onShelfAvailability: { percent: 75, watchedFacingMinutes: 120, emptyFacingMinutes: 30 },
      stockOuts: { count: 1, restocked: 1, meanMs: 30 * MIN },
    });
    await module.stop();
  });

  it('a low-stock alert still open past the target is a miss; one within it is pending', async () => {
    const module = await startModule();
    open(alertOf('late', 'low-stock', 1));
    at(20 * MIN);
    open(alertOf('pending', 'low-stock', 2));
    at(40 * MIN);
    expect(module.kpis(HOUR).replenishmentAccuracy).toMatchObject({ alerts: 1, onTime: 0, pending: 1, percent: 0 });
    await module.stop();
  });
});
