/**
 * GET /api/kpis carries the shelf KPIs (inject, no port): the response schema lets every field and day through, so
 * what the module computes is what a client reads.
 */
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayBus } from '../../../edge/core/events.js';
import { buildHttpApp } from '../../../edge/http/app.js';
import type { AccessGuard } from '../../../edge/http/auth.js';
import { KpisModule } from '../../../edge/kpis/module.js';
import type { FacingStockView } from '../../../edge/stock/shelf-stock-book.js';
import type { SqliteDatabase } from '../../../edge/storage/database.js';
import { migratedDatabase, type MigratedDatabase } from '../../helpers/migrated-database.js';

const MIN = 60_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 11, 1, 10);
const log = pino({ level: 'silent' });
const guard: AccessGuard = () => async (request) => {
  request.principal = { name: 'viewer', role: 'viewer', tokenId: 'd' };
};

let now = T0;
let fixture: MigratedDatabase;
let db: SqliteDatabase;
let app: FastifyInstance;
let module: KpisModule;
const bus = new GatewayBus({
  onHandlerError: ({ error }) => {
    throw error;
  },
});

const units = (n: number) => {
  const view: FacingStockView = {
    shelfId: 'shelf-a',
    facing: 1,
    sku: '400',
    name: 'Beans',
    units: n,
    weightG: n * 400,
    capacityUnits: 10,
    lowStockUnits: 2,
    restockUnits: 6,
    level: n <= 2 ? 'low' : 'ok',
    source: 'weight',
    updatedAt: now,
  };
  bus.emit('stock.changed', { view, cause: 'quantity' });
};

beforeAll(async () => {
  fixture = await migratedDatabase('kpi-routes-');
  db = fixture.db;
  module = new KpisModule({ bus, db, now: () => now, log, timeZone: 'UTC', replenishTargetMs: 30 * MIN });
  await module.start();
  app = await buildHttpApp({
    log,
    bodyLimitBytes: 64 * 1024,
    staticDir: fixture.dir,
    dataDir: fixture.dir,
    routes: [module.routes(guard)],
  });
});
afterAll(async () => {
  await app?.close();
  await module?.stop();
  await fixture?.dispose();
});

describe('GET /api/kpis: shelf KPIs', () => {
  it('on-shelf availability, stock-outs, replenishment accuracy and prediction lead time, with a series per store day', async () => {
    units(8);
    now = T0 + 20 * MIN;
    units(0);
    now = T0 + 30 * MIN;
    units(9);
    now = T0 + 60 * MIN;
    const response = await app.inject({ url: '/api/kpis?days=2' });
    expect(response.statusCode).toBe(200);
    const body = response.json<Record<string, unknown>>();
    expect(body.onShelfAvailability).toEqual({
      percent: 83.3,
      watchedFacingMinutes: 60,
      emptyFacingMinutes: 10,
      perDay: [
        { day: '2026-11-29', percent: null, watchedFacingMinutes: 0, emptyFacingMinutes: 0 },
        { day: '2026-11-30', percent: null, watchedFacingMinutes: 0, emptyFacingMinutes: 0 },
        { day: '2026-12-01', percent: 83.3, watchedFacingMinutes: 60, emptyFacingMinutes: 10 },
      ],
    });
    expect(body.stockOuts).toMatchObject({ count: 1, restocked: 1, ongoing: 0, totalMs: 10 * MIN, meanMs: 10 * MIN });
    expect(body.replenishmentAccuracy).toMatchObject({ targetMs: 30 * MIN, alerts: 0, onTime: 0, pending: 0, percent: null });
    expect(body.predictionLeadTime).toMatchObject({ stockOuts: 1, predicted: 0, predictedPercent: 0, meanMs: null, p50Ms: null });
    expect((body.predictionLeadTime as { perDay: unknown[] }).perDay).toHaveLength(3);
    expect(body.windowMs).toBe(2 * DAY);
  });
});
