import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AccessModule } from '../../../edge/access/module.js';
import { tokenDigest } from '../../../edge/access/api-token.js';
import type { Role } from '../../../edge/http/roles.js';
import { AlertService, type AlertRepository } from '../../../edge/alerts/alert-service.js';
import { openAlert, resolveAlert, type Alert, type AlertKind, type NewAlert } from '../../../edge/alerts/alerts.js';
import { alertRoutes } from '../../../edge/alerts/routes.js';
import type { HandlerErrorReport } from '../../../edge/core/event-bus.js';
import { GatewayBus } from '../../../edge/core/events.js';
import { DeviceRegistry } from '../../../edge/device-registry/device-registry.js';
import { DeviceStore } from '../../../edge/device-registry/device-store.js';
import { deviceRoutes } from '../../../edge/device-registry/routes.js';
import { INBOUND_SCHEMAS } from '../../../edge/device-registry/schemas.js';
import { buildHttpApp } from '../../../edge/http/app.js';
import { healthRoutes, type HealthReport } from '../../../edge/http/health-routes.js';
import { liveEventRoutes } from '../../../edge/http/live-events.js';
import { GatewayMetrics } from '../../../edge/metrics/gateway-metrics.js';
import { PlanogramIndex } from '../../../edge/planogram/planogram.js';
import { stockRoutes } from '../../../edge/stock/routes.js';
import { ShelfStockBook } from '../../../edge/stock/shelf-stock-book.js';
import type { SqliteDatabase } from '../../../edge/storage/database.js';
import { migratedDatabase, type MigratedDatabase } from '../../helpers/migrated-database.js';
import { staffPageDir } from '../../helpers/staff-page.js';

/** the config's admin token (`http.apiToken`) */
const TOKEN = 'test-token-0123456789abcdef';
/** the staff page as Vite built it for this run (tests/global-setup.ts) */
const STATIC_DIR = staffPageDir();
/** the page's script, named by its content hash in the built index.html */
const PAGE_SCRIPT = /<script[^>]*\bsrc="\.\/([^"]+\.js)"/.exec(await readFile(join(STATIC_DIR, 'index.html'), 'utf8'))?.[1] ?? 'no-script';
const PAGE_STYLES = /<link[^>]*\bhref="\.\/([^"]+\.css)"/.exec(await readFile(join(STATIC_DIR, 'index.html'), 'utf8'))?.[1] ?? 'no-css';
/** named tokens made as the CLI makes them; ann is an admin, so the default headers pass every guard */
const TOKENS: Record<string, { role: Role; token: string }> = {
  ann: { role: 'admin', token: 'sst_ann-0123456789abcdefghijklmnop' },
  vic: { role: 'viewer', token: 'sst_vic-0123456789abcdefghijklmnop' },
  sam: { role: 'staff', token: 'sst_sam-0123456789abcdefghijklmnop' },
};
const bearer = (name: keyof typeof TOKENS) => ({ authorization: `Bearer ${TOKENS[name]!.token}` });
const AUTH = bearer('ann');

class MemoryAlertRepository implements AlertRepository {
  readonly rows = new Map<string, Alert>();
  async loadActive(): Promise<Alert[]> {
    return [...this.rows.values()].filter((a) => a.state !== 'resolved');
  }
  async get(id: string): Promise<Alert | undefined> {
    return this.rows.get(id);
  }
  async listResolved(options: { kind?: AlertKind; limit: number }): Promise<Alert[]> {
    return [...this.rows.values()]
      .filter((a) => a.state === 'resolved' && (!options.kind || a.kind === options.kind))
      .slice(0, options.limit);
  }
}

const PLANOGRAM = new PlanogramIndex({
  products: [{ sku: 'milk', name: 'Oat milk 1 l', unitWeightG: 1040 }],
  facings: [
    { shelfId: 'shelf-b', facing: 1, sku: 'milk', capacityUnits: 10, lowStockUnits: 2, restockUnits: 5, tareG: 0 },
    { shelfId: 'shelf-a', facing: 1, sku: 'milk', capacityUnits: 10, lowStockUnits: 2, restockUnits: 5, tareG: 0 },
  ],
});

const lowStock = (facing: number): NewAlert => ({
  kind: 'low-stock',
  key: `low-stock:shelf-a/${facing}`,
  severity: 'warning',
  title: `Low stock facing ${facing}`,
  shelfId: 'shelf-a',
  facing,
  sku: 'milk',
  units: 2,
});

let fixture: MigratedDatabase;
let db: SqliteDatabase;
let clock: number;
let ids: number;
let repository: MemoryAlertRepository;
let alerts: AlertService;
let devices: DeviceRegistry;
let stock: ShelfStockBook;
let metrics: GatewayMetrics;
let bus: GatewayBus;
/** what the bus reported of subscribers that threw: the live stream's must never throw */
let handlerErrors: HandlerErrorReport[];
let report: HealthReport;
let connected: Set<string>;
let access: AccessModule;
let app: FastifyInstance;

type BuildOptions = { apiToken: string | null; maxSseClients: number };

/** The app as the composition root builds it: the plumbing's routes and every room's, from their own modules. */
async function build(options: Partial<BuildOptions> = {}): Promise<FastifyInstance> {
  const { apiToken, maxSseClients } = { apiToken: TOKEN, maxSseClients: 2, ...options };
  const log = pino({ level: 'silent' });
  await access?.stop();
  access = new AccessModule({
    db,
    configToken: apiToken,
    maxAuthFailuresPerMinute: 1_000,
    now: () => clock,
    log,
    onDenied: (outcome) => metrics.apiAccessDenied.labels(outcome).inc(),
  });
  await access.start();
  const guard = access.guard;
  const built = await buildHttpApp({
    log,
    bodyLimitBytes: 4_096,
    staticDir: STATIC_DIR,
    routes: [
      healthRoutes({ health: () => report, metrics: metrics.registry, scrapeGuard: access.scrapeGuard(null) }),
      access.routes(),
      alertRoutes({ alerts, guard, durable: async () => undefined }),
      stockRoutes({
        stock: () => stock,
        planogram: () => PLANOGRAM,
        history: { window: async () => ({ before: undefined, points: [] }) },
        guard,
        now: () => clock,
      }),
      deviceRoutes({ devices, isConnected: (id) => connected.has(id), guard, log }),
      liveEventRoutes({
        bus,
        storeId: 'store-test',
        maxSseClients,
        log,
        onClientCount: (n) => metrics.sseClients.set(n),
        pingMs: 60_000,
        guard: guard('viewer', { allowStreamTicket: true }),
        revocations: access,
      }),
    ],
  });
  await built.ready();
  return built;
}

beforeAll(async () => {
  fixture = await migratedDatabase('smartstore-http-test-');
  db = fixture.db;
});

afterAll(() => fixture.dispose());

beforeEach(async () => {
  await db.run('DELETE FROM devices');
  await db.run('DELETE FROM api_tokens');
  for (const [name, { role, token }] of Object.entries(TOKENS))
    await db.run('INSERT INTO api_tokens (name, role, digest, created_at) VALUES (?, ?, ?, 0)', [name, role, tokenDigest(token)]);
  clock = 1_000;
  ids = 0;
  repository = new MemoryAlertRepository();
  alerts = new AlertService({
    repository,
    onChange: (alert, previous) => bus.emit('alert.changed', { alert, previous }),
    now: () => clock,
    newId: () => `alert-${++ids}`,
  });
  devices = new DeviceRegistry(new DeviceStore(db), { scryptCost: 1024, now: () => clock });
  await devices.start();
  stock = new ShelfStockBook(PLANOGRAM);
  metrics = new GatewayMetrics({ channels: Object.keys(INBOUND_SCHEMAS), defaultMetrics: false });
  handlerErrors = [];
  bus = new GatewayBus({ onHandlerError: (report) => handlerErrors.push(report) });
  connected = new Set();
  report = {
    status: 'ok',
    storeId: 'store-test',
    uptimeS: 12,
    checks: { storage: { ok: true, pendingWrites: 0 }, broker: { ok: true, connectedDevices: 3 } },
  };
  app = await build();
});

afterEach(async () => {
  await app.close();
  await access.stop();
  expect(handlerErrors).toEqual([]);
});

describe('GET /api/health', () => {
  it('200 with the report when ok', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/health' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual(report);
  });

  it('503 with the report (and the storage error) when degraded', async () => {
    report = { ...report, status: 'degraded', checks: { ...report.checks, storage: { ok: false, error: 'disk full', pendingWrites: 12 } } };
    const response = await app.inject({ method: 'GET', url: '/api/health' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual(report);
  });
});

describe('GET /metrics', () => {
  it('serves Prometheus text', async () => {
    metrics.activeAlerts.set(4);
    const response = await app.inject({ method: 'GET', url: '/metrics', headers: AUTH });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(response.body).toContain('# TYPE smartstore_alerts_active gauge');
    expect(response.body).toContain('smartstore_alerts_active 4');
  });
});

describe('static staff page', () => {
  it('/ serves index.html', async () => {
    const response = await app.inject({ method: 'GET', url: '/' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.body).toBe(await readFile(join(STATIC_DIR, 'index.html'), 'utf8'));
  });

  it('the page, its files and the API answers carry the security headers (CSP, nosniff, no Referer)', async () => {
    const answers = [
      await app.inject({ method: 'GET', url: '/' }),
      await app.inject({ method: 'GET', url: `/${PAGE_SCRIPT}` }),
      await app.inject({ method: 'GET', url: '/favicon.svg' }),
      await app.inject({ method: 'GET', url: '/api/alerts', headers: AUTH }),
      await app.inject({ method: 'GET', url: '/api/alerts' }),
      await app.inject({ method: 'GET', url: '/nope.html' }),
    ];
    for (const answer of answers) {
      expect(answer.headers['content-security-policy']).toBe(
        "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
      );
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
      expect(answer.headers['referrer-policy']).toBe('no-referrer');
    }
    expect(answers.map((answer) => answer.statusCode)).toEqual([200, 200, 200, 200, 401, 404]);
    // default-src 'self' refuses inline script, inline style and data: URIs: the page uses none
    const html = await readFile(join(STATIC_DIR, 'index.html'), 'utf8');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=|data:/i);
  });

  it('serves the assets and 404s the rest', async () => {
    expect((await app.inject({ method: 'GET', url: `/${PAGE_SCRIPT}` })).headers['content-type']).toMatch(
      /^(text|application)\/javascript/,
    );
    expect((await app.inject({ method: 'GET', url: `/${PAGE_STYLES}` })).headers['content-type']).toMatch(/^text\/css/);
    const missing = await app.inject({ method: 'GET', url: '/nope.html' });
    expect(missing.statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/../package.json' })).statusCode).toBe(404);
  });

  it('an unknown API route is a JSON 404', async () => {
    const response = await app.inject({ method: 'DELETE', url: '/api/alerts?x=1' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ statusCode: 404, error: 'Not Found', message: 'no route DELETE /api/alerts' });
  });
});

describe('GET /api/shelves', () => {
  it('lists shelves and facings in order', async () => {
    stock.applyQuantity({ shelfId: 'shelf-a', facing: 1, sku: 'milk', units: 4, weightG: 4160, source: 'weight', at: 500 });
    const response = await app.inject({ method: 'GET', url: '/api/shelves', headers: AUTH });
    expect(response.statusCode).toBe(200);
    const body = response.json<{ shelves: Array<{ id: string; facings: Array<Record<string, unknown>> }> }>();
    expect(body.shelves.map((s) => s.id)).toEqual(['shelf-a', 'shelf-b']);
    expect(body.shelves[0]!.facings).toEqual([
      {
        shelfId: 'shelf-a',
        facing: 1,
        sku: 'milk',
        name: 'Oat milk 1 l',
        units: 4,
        weightG: 4160,
        capacityUnits: 10,
        lowStockUnits: 2,
        restockUnits: 5,
        level: 'unknown',
        source: 'weight',
        updatedAt: 500,
      },
    ]);
    expect(body.shelves[1]!.facings[0]).toMatchObject({ units: null, weightG: null, source: null, updatedAt: null, level: 'unknown' });
  });
});

describe('GET /api/alerts', () => {
  it('lists the active alerts by default, critical first', async () => {
    const a = alerts.raise(lowStock(1)).alert;
    clock = 2_000;
    const b = alerts.raise({ ...lowStock(2), severity: 'critical', units: 0 }).alert;
    const response = await app.inject({ method: 'GET', url: '/api/alerts', headers: AUTH });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ alerts: [b, a] });
  });

  it('filters by state, kind and limit', async () => {
    const a = alerts.raise(lowStock(1)).alert;
    alerts.raise(lowStock(2));
    alerts.raise({ kind: 'kiosk-assist', key: 'kiosk-assist:k1', severity: 'warning', title: 'assist', deviceId: 'k1' });
    clock = 3_000;
    const resolved = alerts.resolve(a.id, 'ann');
    const get = async (query: string) =>
      (await app.inject({ method: 'GET', url: `/api/alerts?${query}`, headers: AUTH })).json<{ alerts: Alert[] }>();
    expect((await get('state=resolved')).alerts).toEqual([resolved]);
    expect((await get('state=all')).alerts).toHaveLength(3);
    expect((await get('kind=kiosk-assist')).alerts.map((x) => x.key)).toEqual(['kiosk-assist:k1']);
    expect((await get('limit=1')).alerts).toHaveLength(1);
    expect((await get('limit=1000&state=open')).alerts).toHaveLength(2);
  });

  it.each([['limit=0'], ['limit=1001'], ['limit=abc'], ['limit=-1'], ['limit=01'], ['state=closed'], ['kind=fire'], ['sort=asc']])(
    '400 for %s',
    async (query) => {
      const response = await app.inject({ method: 'GET', url: `/api/alerts?${query}`, headers: AUTH });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ statusCode: 400 });
    },
  );
});

describe('GET /api/alerts/:id', () => {
  it('returns an active, a recently resolved and a stored alert', async () => {
    const a = alerts.raise(lowStock(1)).alert;
    const stored = resolveAlert(openAlert(lowStock(9), 'old-1', 1), 'x', 'r', 2);
    repository.rows.set(stored.id, stored);
    expect((await app.inject({ method: 'GET', url: `/api/alerts/${a.id}`, headers: AUTH })).json()).toEqual(a);
    expect((await app.inject({ method: 'GET', url: '/api/alerts/old-1', headers: AUTH })).json()).toEqual(stored);
  });

  it('404 for an unknown id, 400 for a malformed one', async () => {
    const missing = await app.inject({ method: 'GET', url: '/api/alerts/nope', headers: AUTH });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ statusCode: 404, error: 'Not Found', message: 'alert nope not found' });
    expect((await app.inject({ method: 'GET', url: '/api/alerts/bad_id!', headers: AUTH })).statusCode).toBe(400);
    expect((await app.inject({ method: 'GET', url: `/api/alerts/${'a'.repeat(65)}`, headers: AUTH })).statusCode).toBe(400);
  });
});

describe('POST /api/alerts/:id/{ack,snooze,resolve}', () => {
  const post = (url: string, payload: unknown, headers: Record<string, string> = AUTH) =>
    app.inject({ method: 'POST', url, payload: payload as object, headers });

  it('ack: 200 with the acknowledged alert', async () => {
    const a = alerts.raise(lowStock(1)).alert;
    clock = 5_000;
    const response = await post(`/api/alerts/${a.id}/ack`, {});
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ ...a, state: 'acknowledged', acknowledgedBy: 'ann', acknowledgedAt: 5_000, updatedAt: 5_000 });
    expect(alerts.activeByKey(a.key)?.state).toBe('acknowledged');
  });

  it('snooze: 200 with snoozedUntil = now + minutes', async () => {
    const a = alerts.raise(lowStock(1)).alert;
    const response = await post(`/api/alerts/${a.id}/snooze`, { minutes: 30 });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ state: 'snoozed', snoozedUntil: 1_000 + 30 * 60_000 });
  });

  it('resolve: 200 with the note', async () => {
    const a = alerts.raise(lowStock(1)).alert;
    const response = await post(`/api/alerts/${a.id}/resolve`, { note: 'filled' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ state: 'resolved', resolvedBy: 'ann', resolution: 'filled' });
    expect(alerts.activeCount).toBe(0);
  });

  it('401 without a token and with a wrong or malformed one; nothing changes', async () => {
    const a = alerts.raise(lowStock(1)).alert;
    const cases: Array<[Record<string, string>, string]> = [
      [{}, 'this route needs a bearer token (Authorization: Bearer <token>)'],
      [{ authorization: 'Bearer wrong-token-0123456789' }, 'unknown or revoked token'],
      [{ authorization: TOKENS.ann!.token }, 'unknown or revoked token'],
      [{ authorization: `Bearer${TOKENS.ann!.token}` }, 'unknown or revoked token'],
      [{ authorization: `Bearer\t${TOKENS.ann!.token}` }, 'unknown or revoked token'],
      [{ authorization: `Bearer ${TOKENS.ann!.token} x` }, 'unknown or revoked token'],
      [{ authorization: `Bearers ${TOKENS.ann!.token}` }, 'unknown or revoked token'],
      [{ authorization: `Bearer ${TOKENS.ann!.token}x` }, 'unknown or revoked token'],
    ];
    for (const [headers, message] of cases) {
      const response = await post(`/api/alerts/${a.id}/ack`, {}, headers);
      expect(response.statusCode).toBe(401);
      expect(response.json()).toEqual({ statusCode: 401, error: 'Unauthorized', message });
    }
    expect(alerts.activeByKey(a.key)?.state).toBe('open');
  });

  it('the scheme is accepted in any case, with one or more spaces before the token (RFC 6750, RFC 7235)', async () => {
    for (const scheme of ['Bearer ', 'bearer ', 'BEARER ', 'bEaReR ', 'Bearer   ', 'bearer  ']) {
      const response = await app.inject({ method: 'GET', url: '/api/whoami', headers: { authorization: `${scheme}${TOKENS.sam!.token}` } });
      expect(response.statusCode, JSON.stringify(scheme)).toBe(200);
      expect(response.json()).toEqual({ name: 'sam', role: 'staff' });
    }
    expect((await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `BEARER ${TOKEN}` } })).statusCode).toBe(200);
  });

  it('who did it is the token\'s name: the config token is "api-token (config)", a named token its name', async () => {
    const a = alerts.raise(lowStock(1)).alert;
    const b = alerts.raise(lowStock(2)).alert;
    expect((await post(`/api/alerts/${a.id}/ack`, {}, { authorization: `Bearer ${TOKEN}` })).json()).toMatchObject({
      acknowledgedBy: 'api-token (config)',
    });
    expect((await post(`/api/alerts/${b.id}/resolve`, { note: 'filled' }, bearer('sam'))).json()).toMatchObject({ resolvedBy: 'sam' });
  });

  it('a forged `by` in the body is refused (400) and changes nothing', async () => {
    const a = alerts.raise(lowStock(1)).alert;
    const response = await post(`/api/alerts/${a.id}/ack`, { by: 'the-boss' }, bearer('sam'));
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'unknown field "by" in the request body (it takes none)',
    });
    expect(alerts.activeByKey(a.key)).toMatchObject({ state: 'open' });
    expect(alerts.activeByKey(a.key)?.acknowledgedBy).toBeUndefined();
  });

  it('without any token configured or created, every guarded route answers 401', async () => {
    await db.run('DELETE FROM api_tokens');
    await app.close();
    app = await build({ apiToken: null });
    const a = alerts.raise(lowStock(1)).alert;
    expect((await post(`/api/alerts/${a.id}/ack`, {})).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/api/alerts', headers: AUTH })).statusCode).toBe(401);
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/api/devices',
          payload: { id: 'x1', kind: 'esl' },
          headers: { authorization: `Bearer ${TOKEN}` },
        })
      ).statusCode,
    ).toBe(401);
    expect(alerts.activeByKey(a.key)?.state).toBe('open');
  });

  it.each([
    ['an unknown field', 'ack', { extra: 1 }],
    ['a by (names come from the token)', 'ack', { by: 'ann' }],
    ['minutes as a string', 'snooze', { minutes: '5' }],
    ['minutes 0', 'snooze', { minutes: 0 }],
    ['minutes over a day', 'snooze', { minutes: 1441 }],
    ['fractional minutes', 'snooze', { minutes: 1.5 }],
    ['a missing minutes', 'snooze', {}],
    ['a too long note', 'resolve', { note: 'n'.repeat(501) }],
    ['a body that is not an object', 'ack', ['ann']],
    ['a note of the wrong type', 'resolve', { note: 5 }],
  ])('400 for %s', async (_name, action, body) => {
    const a = alerts.raise(lowStock(1)).alert;
    const response = await post(`/api/alerts/${a.id}/${action}`, body);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ statusCode: 400 });
    expect(alerts.activeByKey(a.key)?.state).toBe('open');
  });

  it('400 for invalid JSON and for __proto__ in the body', async () => {
    const a = alerts.raise(lowStock(1)).alert;
    const broken = await app.inject({
      method: 'POST',
      url: `/api/alerts/${a.id}/ack`,
      payload: '{"by":',
      headers: { ...AUTH, 'content-type': 'application/json' },
    });
    expect(broken.statusCode).toBe(400);
    const proto = await app.inject({
      method: 'POST',
      url: `/api/alerts/${a.id}/ack`,
      payload: '{"by":"ann","__proto__":{"x":1}}',
      headers: { ...AUTH, 'content-type': 'application/json' },
    });
    expect(proto.statusCode).toBe(400);
    expect(alerts.activeByKey(a.key)?.state).toBe('open');
  });

  it('413 for a body over bodyLimitBytes', async () => {
    const a = alerts.raise(lowStock(1)).alert;
    const response = await post(`/api/alerts/${a.id}/resolve`, { note: 'n'.repeat(5_000) });
    expect(response.statusCode).toBe(413);
  });

  it('validation errors use the documented error shape ("error": "Bad Request", docs/http-api.md)', async () => {
    const a = alerts.raise(lowStock(1)).alert;
    const response = await post(`/api/alerts/${a.id}/ack`, { extra: 1 });
    // not "error": "FST_ERR_VALIDATION" (fastify's error code instead of the HTTP reason phrase), and the field in words
    expect(response.json()).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'unknown field "extra" in the request body (it takes none)',
    });
  });

  it('404 for an unknown alert', async () => {
    for (const action of ['ack', 'resolve']) {
      const response = await post(`/api/alerts/nope/${action}`, {});
      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual({ statusCode: 404, error: 'Not Found', message: 'alert nope not found' });
    }
  });

  it('409 to acknowledge, snooze or resolve a resolved alert', async () => {
    const a = alerts.raise(lowStock(1)).alert;
    alerts.resolve(a.id, 'ann');
    for (const [action, body] of [
      ['ack', {}],
      ['snooze', { minutes: 5 }],
      ['resolve', {}],
    ] as const) {
      const response = await post(`/api/alerts/${a.id}/${action}`, body);
      expect(response.statusCode).toBe(409);
      expect(response.json()).toMatchObject({ statusCode: 409, error: 'Conflict' });
    }
  });

  it('409 to acknowledge an acknowledged alert', async () => {
    const a = alerts.raise(lowStock(1)).alert;
    alerts.acknowledge(a.id, 'ann');
    const response = await post(`/api/alerts/${a.id}/ack`, {});
    expect(response.statusCode).toBe(409);
    expect(response.json()).toEqual({
      statusCode: 409,
      error: 'Conflict',
      message: `cannot acknowledge alert ${a.id}: it is acknowledged`,
    });
  });

  it('409 for an alert resolved long ago (only in the repository)', async () => {
    const stored = resolveAlert(openAlert(lowStock(9), 'old-1', 1), 'x', 'r', 2);
    repository.rows.set(stored.id, stored);
    const response = await post('/api/alerts/old-1/ack', {});
    expect(response.statusCode).toBe(409);
    expect(response.json()).toEqual({ statusCode: 409, error: 'Conflict', message: 'alert old-1 is resolved' });
  });
});

describe('/api/devices', () => {
  it('POST provisions a device: 201 with a secret that verifies', async () => {
    const response = await app.inject({ method: 'POST', url: '/api/devices', payload: { id: 'shelf-07', kind: 'shelf' }, headers: AUTH });
    expect(response.statusCode).toBe(201);
    const body = response.json<{ id: string; kind: string; secret: string }>();
    expect(body).toEqual({ id: 'shelf-07', kind: 'shelf', secret: expect.stringMatching(/^[A-Za-z0-9_-]{32}$/) as string });
    expect(await devices.verify('shelf-07', body.secret)).toMatchObject({ ok: true });
  });

  it('POST a duplicate: 409', async () => {
    await devices.provision('esl-1', 'esl');
    const response = await app.inject({ method: 'POST', url: '/api/devices', payload: { id: 'esl-1', kind: 'esl' }, headers: AUTH });
    expect(response.statusCode).toBe(409);
    expect(response.json()).toEqual({ statusCode: 409, error: 'Conflict', message: 'device esl-1 is already registered' });
  });

  it.each([
    ['a bad id', { id: '-bad', kind: 'shelf' }],
    ['an id with a slash', { id: 'a/b', kind: 'shelf' }],
    ['an unknown kind', { id: 'x1', kind: 'fridge' }],
    ['an unknown field', { id: 'x1', kind: 'shelf', secret: 'mine' }],
    ['a missing kind', { id: 'x1' }],
  ])('POST %s: 400', async (_name, payload) => {
    const response = await app.inject({ method: 'POST', url: '/api/devices', payload, headers: AUTH });
    expect(response.statusCode).toBe(400);
    expect(devices.size).toBe(0);
  });

  it('POST without the token: 401', async () => {
    const response = await app.inject({ method: 'POST', url: '/api/devices', payload: { id: 'x1', kind: 'shelf' } });
    expect(response.statusCode).toBe(401);
    expect(devices.size).toBe(0);
  });

  it('GET lists devices with their connection state and never a secret', async () => {
    await devices.provision('esl-1', 'esl');
    await devices.provision('shelf-1', 'shelf');
    devices.markSeen('shelf-1', 900);
    connected.add('shelf-1');
    const response = await app.inject({ method: 'GET', url: '/api/devices', headers: AUTH });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      devices: [
        { id: 'esl-1', kind: 'esl', connected: false, disabled: false, lastSeenAt: null },
        { id: 'shelf-1', kind: 'shelf', connected: true, disabled: false, lastSeenAt: 900 },
      ],
    });
  });
});

describe('GET /api/events', () => {
  it('streams hello, then alert, stock and device events from the bus; refuses streams past maxSseClients', async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const controllers: AbortController[] = [];
    try {
      // the first as a browser opens it (EventSource sends no headers: a one-time ticket), the others with the header
      let useTicket = true;
      const open = async () => {
        const controller = new AbortController();
        controllers.push(controller);
        if (!useTicket) return fetch(`${base}/api/events`, { signal: controller.signal, headers: AUTH });
        useTicket = false;
        const { ticket } = (await (await fetch(`${base}/api/events/ticket`, { method: 'POST', headers: bearer('vic') })).json()) as {
          ticket: string;
        };
        return fetch(`${base}/api/events?ticket=${encodeURIComponent(ticket)}`, { signal: controller.signal });
      };
      const first = await open();
      expect(first.status).toBe(200);
      expect(first.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      const reader = first.body!.getReader();
      const decoder = new TextDecoder();
      let text = '';
      const readUntil = async (needle: string) => {
        while (!text.includes(needle)) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`stream ended before ${needle}`);
          text += decoder.decode(value, { stream: true });
        }
      };
      await readUntil('\n\n');
      expect(text).toBe('retry: 3000\nevent: hello\ndata: {"storeId":"store-test"}\n\n');
      await waitForSseClients(1);

      // alert.changed (published by the alert service's onChange, as the alerts room does) → event `alert`
      const a = alerts.raise(lowStock(1)).alert;
      await readUntil(`event: alert\ndata: ${JSON.stringify(a)}\n\n`);
      expect(text.endsWith(`event: alert\ndata: ${JSON.stringify(a)}\n\n`)).toBe(true);

      // stock.changed → event `stock` carrying the facing's view
      const view = stock.applyQuantity({ shelfId: 'shelf-a', facing: 1, sku: 'milk', units: 4, weightG: 4160, source: 'weight', at: 500 })!;
      bus.emit('stock.changed', { view, cause: 'quantity' });
      await readUntil(`event: stock\ndata: ${JSON.stringify(view)}\n\n`);

      // device.connection → event `device`
      const connection = { deviceId: 'shelf-a', kind: 'shelf' as const, source: 'mqtt', connected: true, at: 600 };
      bus.emit('device.connection', connection);
      await readUntil(`event: device\ndata: ${JSON.stringify(connection)}\n\n`);

      const second = await open();
      expect(second.status).toBe(200);
      const third = await open();
      expect(third.status).toBe(503);
      expect(await third.json()).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'too many live streams (max 2)' });
    } finally {
      for (const controller of controllers) controller.abort();
    }
    // a closed stream is no longer counted
    await waitForSseClients(0);
  });

  it('a stream ticket works once and only within 30 s; without a token or ticket: 401', async () => {
    const ticketFor = async () =>
      (await app.inject({ method: 'POST', url: '/api/events/ticket', headers: bearer('vic') })).json<{
        ticket: string;
        expiresAt: number;
      }>();
    const used = await ticketFor();
    expect(used.expiresAt).toBe(clock + 30_000);
    // a ticket's stream is only opened over a real socket (inject cannot hold a stream); redeeming it through the
    // registry is what the guard does
    expect(access.tickets.redeem(used.ticket)).toEqual({ name: 'vic', role: 'viewer', tokenId: tokenDigest(TOKENS.vic!.token) });
    const stream = (query: string) => app.inject({ method: 'GET', url: `/api/events${query}` });
    expect((await stream(`?ticket=${used.ticket}`)).statusCode).toBe(401);
    const expired = await ticketFor();
    clock += 30_001;
    expect((await stream(`?ticket=${expired.ticket}`)).json()).toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      message: 'unknown, used or expired stream ticket',
    });
    expect((await stream('')).statusCode).toBe(401);
    expect((await app.inject({ method: 'POST', url: '/api/events/ticket' })).statusCode).toBe(401);
  });

  it('closing the app unsubscribes the live stream from the bus', async () => {
    expect(bus.subscriberCount('alert.changed')).toBe(1);
    expect(bus.subscriberCount('stock.changed')).toBe(1);
    expect(bus.subscriberCount('device.connection')).toBe(1);
    await app.close();
    expect(bus.subscriberCount('alert.changed')).toBe(0);
    expect(bus.subscriberCount('stock.changed')).toBe(0);
    expect(bus.subscriberCount('device.connection')).toBe(0);
    app = await build();
  });
});

async function waitForSseClients(n: number): Promise<void> {
  const deadline = Date.now() + 2_000;
  while ((await metrics.value('smartstore_sse_clients')) !== n) {
    if (Date.now() > deadline) throw new Error(`expected ${n} sse clients`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
