/**
 * The insight routes on the HTTP app (inject, no port): the pick list's limit and aisle grouping, availability per sku,
 * and 503 while the room is disabled.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHttpApp } from '../../../edge/http/app.js';
import type { AccessGuard } from '../../../edge/http/auth.js';
import type { SkuAvailability } from '../../../edge/insight/availability.js';
import type { TareProposal } from '../../../edge/insight/insight-engine.js';
import type { PickLine } from '../../../edge/insight/replenishment.js';
import { insightRoutes, type InsightReader } from '../../../edge/insight/routes.js';

const line = (shelfId: string, aisle?: string): PickLine => ({
  shelfId,
  facing: 1,
  sku: '400',
  name: 'Beans',
  urgency: 'low',
  units: 1,
  unitsToBring: 7,
  ...(aisle === undefined ? {} : { aisle }),
});
const tare: TareProposal = {
  shelfId: 'shelf-a',
  facing: 2,
  sku: '400',
  currentTareG: 0,
  proposedTareG: 12.4,
  evidence: { medianNetG: 12.4, spreadG: 0.8, samples: 60, emptySince: 5 },
};
const milk: SkuAvailability = { sku: '401', availableUnits: 3, shelfUnits: 5, unknownFacings: 0, at: 7 };

let lines: PickLine[] = [];
let enabled = true;
const limits: number[] = [];
const reader: InsightReader = {
  pickList: (limit) => {
    limits.push(limit);
    return enabled ? lines : undefined;
  },
  availability: (sku) => (!enabled ? undefined : sku === undefined || sku === milk.sku ? [milk] : []),
  tareProposals: () => (enabled ? [tare] : undefined),
};
const guard: AccessGuard = () => async (request) => {
  request.principal = { name: 'viewer', role: 'viewer', tokenId: 'd' };
};

let app: FastifyInstance;
let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'insight-routes-'));
  app = await buildHttpApp({
    log: pino({ level: 'silent' }),
    bodyLimitBytes: 64 * 1024,
    staticDir: dataDir,
    dataDir,
    routes: [insightRoutes({ insight: reader, guard, now: () => 42 })],
  });
});
afterAll(async () => {
  await app?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('GET /api/replenishment', () => {
  it('the lines as the pick list gives them, 100 by default, ?limit= up to 500; no aisles without a layout', async () => {
    enabled = true;
    lines = [line('shelf-b'), line('shelf-a')];
    const response = await app.inject({ url: '/api/replenishment' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ at: 42, lines });
    await app.inject({ url: '/api/replenishment?limit=500' });
    expect(limits.slice(-2)).toEqual([100, 500]);
    for (const bad of ['0', '501', 'ten']) expect((await app.inject({ url: `/api/replenishment?limit=${bad}` })).statusCode).toBe(400);
  });

  it('grouped by aisle when the lines have aisles (aisles by name, lines without one last)', async () => {
    enabled = true;
    lines = [line('s1', 'A10'), line('s2'), line('s3', 'A2')];
    const body = (await app.inject({ url: '/api/replenishment' })).json<{ aisles: Array<{ aisle: string | null; lines: PickLine[] }> }>();
    expect(body.aisles.map((group) => [group.aisle, group.lines.map((l) => l.shelfId)])).toEqual([
      ['A2', ['s3']],
      ['A10', ['s1']],
      [null, ['s2']],
    ]);
  });

  it('503 while insight is disabled', async () => {
    enabled = false;
    const response = await app.inject({ url: '/api/replenishment' });
    expect(response.statusCode).toBe(503);
    expect(response.json<{ message: string }>().message).toContain('insight.enabled');
  });
});

describe('GET /api/availability', () => {
  it('every sku, one sku, 404 for a sku the planogram does not have, 503 while disabled', async () => {
    enabled = true;
    expect((await app.inject({ url: '/api/availability' })).json()).toEqual({ availability: [milk] });
    expect((await app.inject({ url: '/api/availability?sku=401' })).json()).toEqual({ availability: [milk] });
    const unknown = await app.inject({ url: '/api/availability?sku=999' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json<{ message: string }>().message).toBe('sku 999 is not in the planogram');
    enabled = false;
    expect((await app.inject({ url: '/api/availability' })).statusCode).toBe(503);
  });
});

describe('GET /api/insight/tare-proposals', () => {
  it('the proposals with their evidence; 503 while disabled', async () => {
    enabled = true;
    const response = await app.inject({ url: '/api/insight/tare-proposals' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ at: 42, proposals: [tare] });
    enabled = false;
    expect((await app.inject({ url: '/api/insight/tare-proposals' })).statusCode).toBe(503);
  });
});
