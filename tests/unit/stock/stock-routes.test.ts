/**
 * The stock routes on the HTTP app (inject, no port): /api/shelves with and without the planogram's layout, and a
 * facing's history — the window asked for, its bounds, a facing the planogram does not have.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHttpApp } from '../../../edge/http/app.js';
import type { AccessGuard } from '../../../edge/http/auth.js';
import { parsePlanogram } from '../../../edge/planogram/planogram-file.js';
import { PlanogramIndex } from '../../../edge/planogram/planogram.js';
import type { HistoryWindow } from '../../../edge/stock/facing-history-store.js';
import { stockRoutes } from '../../../edge/stock/routes.js';
import { ShelfStockBook } from '../../../edge/stock/shelf-stock-book.js';

const PLANOGRAM = `
products:
  - { sku: "1", name: Oat milk 1 l, unitWeightG: 1040 }
shelves:
  - { id: shelf-a, facings: [{ facing: 1, sku: "1", capacityUnits: 10, lowStockUnits: 2 }] }
  - { id: shelf-b, facings: [{ facing: 1, sku: "1", capacityUnits: 10, lowStockUnits: 2 }] }
`;
const NOW = Date.UTC(2026, 11, 7, 12);
const HOUR = 3_600_000;

type Shelves = {
  shelves: Array<{ id: string; place?: unknown; facings: Array<Record<string, unknown>> }>;
  aisles?: unknown[];
};

const guard: AccessGuard = () => async (request) => {
  request.principal = { name: 'viewer', role: 'viewer', tokenId: 'd' };
};
const asked: Array<{ shelfId: string; facing: number; from: number; to: number }> = [];
let window: HistoryWindow = { before: undefined, points: [] };

let dataDir: string;
const apps: FastifyInstance[] = [];
async function app(planogramText: string): Promise<FastifyInstance> {
  const planogram = new PlanogramIndex(parsePlanogram(planogramText, 'test.yaml'));
  const stock = new ShelfStockBook(planogram);
  const built = await buildHttpApp({
    log: pino({ level: 'silent' }),
    bodyLimitBytes: 64 * 1024,
    staticDir: dataDir,
    dataDir,
    routes: [
      stockRoutes({
        stock: () => stock,
        planogram: () => planogram,
        history: {
          window: async (shelfId, facing, from, to) => {
            asked.push({ shelfId, facing, from, to });
            return window;
          },
        },
        guard,
        now: () => NOW,
      }),
    ],
  });
  apps.push(built);
  return built;
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'stock-routes-'));
});
afterAll(async () => {
  for (const built of apps) await built.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('GET /api/shelves', () => {
  it('without a layout: the shelves and their facings with product names, no places, no aisles', async () => {
    const body = (await (await app(PLANOGRAM)).inject({ url: '/api/shelves' })).json<Shelves>();
    expect(body.aisles).toBeUndefined();
    expect(body.shelves).toHaveLength(2);
    expect(body.shelves[0]).not.toHaveProperty('place');
    expect(body.shelves[0]?.facings[0]).toMatchObject({ sku: '1', name: 'Oat milk 1 l', units: null });
  });

  it('with a layout: each placed shelf has its place, the aisles come in walking order', async () => {
    const built = await app(`${PLANOGRAM}layout:\n  - { aisle: "4", name: Dairy, right: [shelf-b] }\n`);
    const body = (await built.inject({ url: '/api/shelves' })).json<Shelves>();
    expect(body.aisles).toEqual([{ aisle: '4', name: 'Dairy' }]);
    expect(body.shelves.map((s) => [s.id, s.place])).toEqual([
      ['shelf-a', undefined],
      ['shelf-b', { aisle: '4', side: 'right', order: 1 }],
    ]);
  });
});

describe('GET /api/facings/:shelfId/:facing/history', () => {
  it('asks the store for the last `hours` (24 by default) and draws the units before the window at its start', async () => {
    const built = await app(PLANOGRAM);
    window = { before: { at: NOW - 30 * HOUR, units: 9 }, points: [{ at: NOW - HOUR, units: 4 }] };
    asked.length = 0;
    const response = await built.inject({ url: '/api/facings/shelf-a/1/history' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      shelfId: 'shelf-a',
      facing: 1,
      sku: '1',
      name: 'Oat milk 1 l',
      capacityUnits: 10,
      lowStockUnits: 2,
      units: null,
      from: NOW - 24 * HOUR,
      to: NOW,
      points: [
        { at: NOW - 24 * HOUR, units: 9 },
        { at: NOW - HOUR, units: 4 },
      ],
    });
    expect(asked).toEqual([{ shelfId: 'shelf-a', facing: 1, from: NOW - 24 * HOUR, to: NOW }]);
    await built.inject({ url: '/api/facings/shelf-a/1/history?hours=336' });
    expect(asked[1]).toMatchObject({ from: NOW - 336 * HOUR });
  });

  it('refuses a window outside 1-336 hours and a malformed facing (400), and a facing the planogram lacks (404)', async () => {
    const built = await app(PLANOGRAM);
    for (const query of ['?hours=0', '?hours=337', '?hours=1.5', '?hours=abc', '?days=2']) {
      expect((await built.inject({ url: `/api/facings/shelf-a/1/history${query}` })).statusCode, query).toBe(400);
    }
    expect((await built.inject({ url: '/api/facings/shelf-a/0/history' })).statusCode).toBe(400);
    const missing = await built.inject({ url: '/api/facings/shelf-z/1/history' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json<{ message: string }>().message).toBe('facing 1 of shelf-z is not in the planogram');
  });
});
