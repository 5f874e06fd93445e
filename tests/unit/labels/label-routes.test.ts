/**
 * GET /api/labels and PUT /api/labels/:id/binding in the real HTTP app (inject): the list ranked worst first with its
 * counts per problem and per driver, filtered and paged by the query, the query's mistakes in words, the response schema
 * strict (a field the schema does not know fails the answer, so every field the page reads is declared).
 */
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessGuard } from '../../../edge/http/auth.js';
import { buildHttpApp } from '../../../edge/http/app.js';
import { roleAllows, type Role } from '../../../edge/http/roles.js';
import { labelRoutes, type LabelFactsView, type LabelList } from '../../../edge/labels/label-routes.js';

const STATIC_DIR = fileURLToPath(new URL('../../../dashboards/staff/', import.meta.url));

/** The role comes in a header: the access room's own guard is tested elsewhere. */
const guard: AccessGuard = (need) =>
  Object.assign(
    async (request: Parameters<ReturnType<AccessGuard>>[0], reply: Parameters<ReturnType<AccessGuard>>[1]) => {
      const role = (request.headers['x-role'] as Role | undefined) ?? 'viewer';
      if (!roleAllows(role, need)) return void reply.code(403).send({ statusCode: 403, error: 'Forbidden', message: `needs ${need}` });
      request.principal = { name: `a ${role}`, role, tokenId: role };
    },
    { access: { role: need } },
  );

const facts = (over: Partial<LabelFactsView> & { labelId: string }): LabelFactsView => ({
  state: 'ok',
  driverId: 'mqtt-esl',
  driverLinkUp: true,
  driverLinkDetail: null,
  batteryMv: 2_900,
  lastSeenAt: 1_000,
  displayedPriceCents: 199,
  confirmedPriceCents: 199,
  confirmedCampaignId: 'spring',
  pendingPriceCents: null,
  shelfId: 'shelf-a',
  facing: 1,
  sku: 'milk',
  productName: 'Oat milk 1 l',
  bindingSource: 'planogram',
  ...over,
});

const LABELS: LabelFactsView[] = [
  facts({ labelId: 'esl-ok', facing: 2 }),
  facts({ labelId: 'esl-low', state: 'battery-low', batteryMv: 2_100 }),
  facts({ labelId: 'esl-mismatch', displayedPriceCents: 249 }),
  facts({
    labelId: '0000021D9A6B3B10',
    driverId: 'oepl:ap-1',
    driverLinkUp: false,
    driverLinkDetail: 'unsupported firmware 2.55: OpenEPaperLink 2.60 or later needed',
    state: 'offline',
  }),
  facts({ labelId: 'esl-off', state: 'offline', shelfId: null, facing: null, sku: null, productName: null, bindingSource: null }),
];

describe('label routes', () => {
  let app: FastifyInstance;
  const bound: unknown[] = [];

  beforeAll(async () => {
    app = await buildHttpApp({
      log: pino({ level: 'silent' }),
      bodyLimitBytes: 4_096,
      staticDir: STATIC_DIR,
      routes: [
        labelRoutes({
          guard,
          labels: {
            views: () => LABELS,
            bind: async (labelId, target, by) => {
              bound.push({ labelId, ...target, by });
              return facts({ labelId, ...target, bindingSource: 'api', displayedPriceCents: 100 });
            },
          },
        }),
      ],
    });
  });
  afterAll(async () => app?.close());

  const list = async (query = '') => {
    const response = await app.inject({ url: `/api/labels${query}` });
    expect(response.statusCode, response.body).toBe(200);
    return response.json<LabelList>();
  };

  it('lists every label worst first, each with its problem, product and prices, and counts them by problem and driver', async () => {
    const answer = await list();
    expect(answer.labels.map((label) => [label.labelId, label.problem])).toEqual([
      ['0000021D9A6B3B10', 'failed'],
      ['esl-mismatch', 'failed'],
      ['esl-off', 'offline'],
      ['esl-low', 'battery-low'],
      ['esl-ok', 'ok'],
    ]);
    expect(answer.labels[1]).toMatchObject({ productName: 'Oat milk 1 l', displayedPriceCents: 249, confirmedPriceCents: 199 });
    expect(answer).toMatchObject({ truncated: false, total: 5 });
    expect(answer.counts).toEqual({ failed: 2, offline: 1, 'never-seen': 0, 'battery-low': 1, 'price-pending': 0, ok: 1 });
    expect(answer.drivers).toEqual([
      { driverId: 'mqtt-esl', labels: 4, problems: 3, linkUp: true, linkDetail: null },
      {
        driverId: 'oepl:ap-1',
        labels: 1,
        problems: 1,
        linkUp: false,
        linkDetail: 'unsupported firmware 2.55: OpenEPaperLink 2.60 or later needed',
      },
    ]);
  });

  it('filters by problems and driver and pages the rest; counts stay those of every label', async () => {
    const problems = await list('?problems=true&driverId=mqtt-esl');
    expect(problems.labels.map((label) => label.labelId)).toEqual(['esl-mismatch', 'esl-off', 'esl-low']);
    expect(problems.counts.ok).toBe(1);
    const page = await list('?offset=1&limit=2');
    expect(page.labels.map((label) => label.labelId)).toEqual(['esl-mismatch', 'esl-off']);
    expect(page).toMatchObject({ truncated: true, total: 5 });
    const countsOnly = await list('?limit=0');
    expect(countsOnly).toMatchObject({ labels: [], truncated: true, total: 5 });
    expect((await list('?offset=5')).labels).toEqual([]);
  });

  it('says in words what is wrong with a query', async () => {
    const wrong = await app.inject({ url: '/api/labels?problems=yes' });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json<{ message: string }>().message).toMatch(/problems.*true or false/);
    const unknown = await app.inject({ url: '/api/labels?colour=red' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json<{ message: string }>().message).toMatch(/colour/);
    const negative = await app.inject({ url: '/api/labels?limit=-1' });
    expect(negative.statusCode).toBe(400);
    expect(negative.json<{ message: string }>().message).toMatch(/limit/);
  });

  it('binds a label for a manager and answers the label with its problem; a viewer may not', async () => {
    const body = { shelfId: 'shelf-b', facing: 3 };
    const refused = await app.inject({ method: 'PUT', url: '/api/labels/esl-9/binding', payload: body });
    expect(refused.statusCode).toBe(403);
    const answer = await app.inject({ method: 'PUT', url: '/api/labels/esl-9/binding', payload: body, headers: { 'x-role': 'manager' } });
    expect(answer.statusCode, answer.body).toBe(200);
    expect(answer.json()).toMatchObject({ labelId: 'esl-9', shelfId: 'shelf-b', facing: 3, problem: 'failed' });
    expect(bound).toEqual([{ labelId: 'esl-9', shelfId: 'shelf-b', facing: 3, by: 'a manager' }]);
  });
});
