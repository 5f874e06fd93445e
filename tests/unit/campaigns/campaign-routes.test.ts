/**
 * The campaign routes' own error handler (413 naming the limit) hands every other error on to the app's: a commit the
 * storage refused is still a 503 naming the data dir, and a schema error a 400 in words.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignRoutes } from '../../../edge/campaigns/campaign-routes.js';
import type { CampaignService } from '../../../edge/campaigns/campaign-service.js';
import type { CampaignView } from '../../../edge/campaigns/campaign.js';
import { buildHttpApp } from '../../../edge/http/app.js';
import type { AccessGuard } from '../../../edge/http/auth.js';
import { CommitRefusedError } from '../../../edge/storage/write-behind.js';

const view = { id: 'c1', state: 'running', total: 1 } as unknown as CampaignView;
// a service that creates in memory and whose commit the disk refuses
const campaigns = {
  knowsSku: () => true,
  create: () => view,
  durable: () => Promise.reject(new CommitRefusedError('commit failed', new Error('SQLITE_IOERR: disk I/O error'))),
} as unknown as CampaignService;
const guard: AccessGuard = () => async (request) => {
  request.principal = { name: 'maria', role: 'manager', tokenId: 'd' };
};

let app: FastifyInstance;
let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'campaign-routes-'));
  app = await buildHttpApp({
    log: pino({ level: 'silent' }),
    bodyLimitBytes: 64 * 1024,
    staticDir: dataDir,
    dataDir,
    routes: [campaignRoutes({ campaigns, guard, uploadLimitBytes: 1024 * 1024 })],
  });
});
afterAll(async () => {
  await app?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('campaign routes errors', () => {
  it('answers a commit the storage refused with 503 through the app handler', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/campaigns',
      headers: { 'content-type': 'text/csv' },
      payload: 'sku,priceCents\nmilk,129\n',
    });
    expect(response.statusCode).toBe(503);
    expect(response.json<{ message: string }>().message).toContain(`the gateway's database in ${dataDir} refuses writes`);
  });

  it('answers an upload over its own limit with 413 naming it, and a schema error with a 400 in words', async () => {
    const big = await app.inject({
      method: 'POST',
      url: '/api/campaigns',
      headers: { 'content-type': 'text/csv' },
      payload: `sku,priceCents\n${'milk,129\n'.repeat(130_000)}`,
    });
    expect(big.statusCode).toBe(413);
    expect(big.json<{ message: string }>().message).toContain('larger than the 1 MiB (1048576 bytes)');
    const bad = await app.inject({
      method: 'POST',
      url: '/api/campaigns?force=yes',
      payload: { prices: [{ sku: 'milk', priceCents: 1 }] },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ message: string }>().message).toBe('force in the query string is not valid: true or false');
  });
});
