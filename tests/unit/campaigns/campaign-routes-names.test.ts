/**
 * The campaign routes with a real service (SQLite in a temp dir): a CSV upload is named by `?name=`, a JSON body by
 * `title`, both come back on GET; POST /api/campaigns/:id/resend sends the failed labels again, for managers only.
 */
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { campaignRoutes } from '../../../edge/campaigns/campaign-routes.js';
import type { CampaignService } from '../../../edge/campaigns/campaign-service.js';
import type { CampaignView } from '../../../edge/campaigns/campaign.js';
import { buildHttpApp } from '../../../edge/http/app.js';
import type { AccessGuard } from '../../../edge/http/auth.js';
import { isRole, roleAllows, type Role } from '../../../edge/http/roles.js';
import { SKU_BEANS, SKU_MILK, serviceFixture, type ServiceFixture } from './campaign-service-fixture.js';

let fx: ServiceFixture;
let service: CampaignService;
let app: FastifyInstance;
/** the roles the routes asked the guard for */
const asked = new Set<Role>();

// the guard lets a request whose `x-test-role` includes the role needed through as maria (roles ordered, as the real
// one does) and refuses anything else
const guard: AccessGuard = (need) => {
  asked.add(need);
  return async (request, reply) => {
    const role = request.headers['x-test-role'];
    if (typeof role !== 'string' || !isRole(role) || !roleAllows(role, need)) {
      return reply.code(403).send({ statusCode: 403, error: 'Forbidden', message: `needs the ${need} role` });
    }
    request.principal = { name: 'maria', role: 'manager', tokenId: 't1' };
  };
};
const manager = { 'x-test-role': 'manager' };

beforeEach(async () => {
  fx = await serviceFixture();
  service = await fx.startService({ rules: { retry: { maxAttempts: 1, baseDelayMs: 1_000, maxDelayMs: 1_000, jitterRatio: 0 } } });
  app = await buildHttpApp({
    log: pino({ level: 'silent' }),
    bodyLimitBytes: 64 * 1024,
    staticDir: fx.dir,
    dataDir: fx.dir,
    routes: [campaignRoutes({ campaigns: service, guard })],
  });
});
afterEach(async () => {
  await app?.close();
  await fx.dispose();
});

async function upload(csv: string, query = ''): Promise<{ statusCode: number; body: { campaigns: CampaignView[]; message?: string } }> {
  const response = await app.inject({
    method: 'POST',
    url: `/api/campaigns${query}`,
    headers: { ...manager, 'content-type': 'text/csv' },
    payload: csv,
  });
  return { statusCode: response.statusCode, body: response.json() };
}

describe('campaigns by name', () => {
  it('a CSV upload takes its name from ?name= and GET shows it with who, when and how many skus and labels', async () => {
    const created = await upload(`sku,priceCents\n${SKU_MILK},199\n${SKU_BEANS},849\n`, '?name=spring%20prices.csv');
    expect(created.statusCode).toBe(201);
    const id = created.body.campaigns[0]?.id as string;
    const listed = await app.inject({ method: 'GET', url: '/api/campaigns', headers: manager });
    expect(listed.json<{ campaigns: CampaignView[] }>().campaigns[0]).toMatchObject({
      id,
      name: 'spring prices.csv',
      createdBy: 'maria',
      createdAt: fx.clock.now,
      skus: 2,
      total: 3,
    });
    expect(fx.audit[0]).toMatchObject({ action: 'campaign.created', details: { name: 'spring prices.csv', skus: 2, labels: 3 } });
  });

  it('a JSON body is named by its title; a name with control characters is refused in words', async () => {
    const json = await app.inject({
      method: 'POST',
      url: '/api/campaigns',
      headers: manager,
      payload: { id: 'hq-12', title: 'Week 12/2026', prices: [{ sku: SKU_MILK, priceCents: 199 }] },
    });
    expect(json.statusCode).toBe(201);
    const one = await app.inject({ method: 'GET', url: '/api/campaigns/hq-12', headers: manager });
    expect(one.json<CampaignView>()).toMatchObject({ name: 'Week 12/2026', skus: 1, total: 2 });
    const bad = await upload(`sku,priceCents\n${SKU_MILK},199\n`, '?name=a%07b.csv');
    expect(bad.statusCode).toBe(400);
    expect(bad.body.message).toMatch(/the campaign name has control characters in it$/);
  });
});

describe('POST /api/campaigns/:id/resend', () => {
  it("sends the failed labels again as a new campaign named after the first, which GET shows; a manager's route", async () => {
    await upload(`sku,priceCents\n${SKU_MILK},199\n${SKU_BEANS},849\n`, '?name=spring.csv');
    await fx.committed();
    const [first] = service.list();
    const id = first?.id as string;
    fx.driver.confirmLast('L1');
    const l2 = fx.driver.lastSent('L2');
    fx.driver.emit({ type: 'confirmed', labelId: 'L2', version: l2.version, displayedPriceCents: 189 });
    fx.driver.confirmLast('L3');
    expect(service.get(id)).toMatchObject({ state: 'done', counts: { confirmed: 2, failed: 1 } });

    const viewer = await app.inject({ method: 'POST', url: `/api/campaigns/${id}/resend`, headers: { 'x-test-role': 'viewer' } });
    expect(viewer.statusCode).toBe(403);
    // changes need a manager; reading (GET) is for every role
    expect(asked).toEqual(new Set(['manager', 'viewer']));

    const again = await app.inject({ method: 'POST', url: `/api/campaigns/${id}/resend`, headers: manager });
    expect(again.statusCode).toBe(201);
    const view = again.json<CampaignView>();
    expect(view).toMatchObject({ name: 'spring.csv (sent again)', resendOf: id, createdBy: 'maria', total: 1, skus: 1 });
    await fx.committed();
    expect(fx.driver.lastSent('L2')).toMatchObject({ priceCents: 199, version: l2.version + 1 });
    expect(fx.audit.at(-1)).toMatchObject({ actor: 'maria', action: 'campaign.resent', subject: id, details: { resendId: view.id } });
    const listed = await app.inject({ method: 'GET', url: '/api/campaigns', headers: manager });
    expect(listed.json<{ campaigns: CampaignView[] }>().campaigns.map((campaign) => campaign.name)).toEqual([
      'spring.csv (sent again)',
      'spring.csv',
    ]);
  });

  it('answers 409 in words when nothing failed, 404 for an unknown campaign', async () => {
    await upload(`sku,priceCents\n${SKU_MILK},199\n`, '?name=milk.csv');
    await fx.committed();
    const id = service.list()[0]?.id as string;
    const nothing = await app.inject({ method: 'POST', url: `/api/campaigns/${id}/resend`, headers: manager, payload: {} });
    expect(nothing.statusCode).toBe(409);
    expect(nothing.json<{ message: string }>().message).toBe(
      `campaign ${id}: nothing to send again: no label of it failed or shows another price`,
    );
    const unknown = await app.inject({ method: 'POST', url: '/api/campaigns/nope/resend', headers: manager });
    expect(unknown.statusCode).toBe(404);
  });
});
