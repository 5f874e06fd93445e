/**
 * Named API tokens with roles against a real gateway: the role matrix over every write route, reads refused without a
 * token, tokens made and revoked by the CLI while the gateway runs (their live streams and stream tickets end with
 * them), the scrape token, foreign Host headers (DNS rebinding), and failed authentications limited per client address
 * (never a valid token).
 */
import { execFile } from 'node:child_process';
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { Role } from '../../edge/http/roles.js';
import { ROLES } from '../../edge/http/roles.js';
import { runCli } from '../../edge/cli/program.js';
import { builtGatewayCli } from '../helpers/built-gateway.js';
import { TEST_TOKEN, eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.dispose();
  gw = undefined;
});

const execFileAsync = promisify(execFile);

/** A live stream read as text: `ready` at the gateway's hello, `ended` (the time) when the gateway ends it. */
function openStream(url: string, token?: string): { ready: Promise<void>; ended: Promise<number>; text(): string; close(): void } {
  let text = '';
  let req: ClientRequest | undefined;
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req = request(url, { headers: token ? { authorization: `Bearer ${token}` } : {} }, resolve);
    req.on('error', reject);
    req.end();
  });
  const ready = response.then(
    (res) =>
      new Promise<void>((resolve, reject) => {
        if (res.statusCode !== 200) reject(new Error(`stream refused: ${res.statusCode}`));
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          if (text.includes('event: hello')) resolve();
        });
      }),
  );
  const ended = response.then((res) => new Promise<number>((resolve) => res.once('end', () => resolve(Date.now()))));
  ended.catch(() => undefined);
  return { ready, ended, text: () => text, close: () => void req?.destroy() };
}

/** Every route that changes something, with the lowest role that may call it. */
const WRITE_ROUTES: ReadonlyArray<{ method: string; path: string; body?: unknown; need: Role }> = [
  { method: 'POST', path: '/api/alerts/no-such-alert/ack', body: {}, need: 'staff' },
  { method: 'POST', path: '/api/alerts/no-such-alert/snooze', body: { minutes: 5 }, need: 'staff' },
  { method: 'POST', path: '/api/alerts/no-such-alert/resolve', body: {}, need: 'staff' },
  { method: 'POST', path: '/api/devices', body: { id: 'DEVICE', kind: 'esl' }, need: 'admin' },
  { method: 'POST', path: '/api/devices/no-such-device/disable', need: 'admin' },
  { method: 'POST', path: '/api/devices/no-such-device/enable', need: 'admin' },
  { method: 'POST', path: '/api/devices/no-such-device/rotate-secret', need: 'admin' },
  { method: 'DELETE', path: '/api/devices/no-such-device', need: 'admin' },
];
const READ_ROUTES = ['/api/alerts', '/api/alerts/no-such-alert', '/api/shelves', '/api/devices', '/api/whoami', '/metrics'];

describe('API access', () => {
  it('role matrix: each role may call exactly the write routes at or below it; 403 names the role needed', async () => {
    gw = await startTestGateway();
    const tokens = Object.fromEntries(
      await Promise.all(ROLES.map(async (role) => [role, await gw!.addToken(`${role}-user`, role)] as const)),
    ) as Record<Role, string>;
    const outcomes: string[] = [];
    for (const role of ROLES) {
      for (const route of WRITE_ROUTES) {
        const body = route.body === undefined ? undefined : JSON.stringify(route.body).replace('DEVICE', `esl-${role}`);
        const response = await gw.api(route.path, { method: route.method, token: tokens[role], ...(body ? { body } : {}) });
        const allowed = ROLES.indexOf(role) >= ROLES.indexOf(route.need);
        // allowed requests reach the route (which then answers 201, 404, …), refused ones never do
        if (allowed) expect(response.status, `${role} ${route.method} ${route.path}`).not.toBe(403);
        else
          expect(await response.json(), `${role} ${route.method} ${route.path}`).toEqual({
            statusCode: 403,
            error: 'Forbidden',
            message: `token "${role}-user" has role ${role}; this needs ${route.need}`,
          });
        outcomes.push(
          `${role} ${route.method} ${route.path.replace('no-such-', '')}: ${allowed ? 'allowed' : 'refused'} (${response.status})`,
        );
      }
    }
    expect(outcomes.filter((line) => line.includes('allowed')).length).toBe(3 * 3 + 5); // staff, manager, admin × alerts + admin × devices
    // only the admin's device POST went through
    expect(gw.built.devices.registry.list().map((d) => d.id)).toEqual(['esl-admin']);
  });

  it('every read route answers 401 without a token and 200 with a viewer token; /api/health stays open', async () => {
    gw = await startTestGateway();
    const viewer = await gw.addToken('wall screen', 'viewer');
    for (const path of READ_ROUTES) {
      const refused = await gw.api(path, { token: null });
      expect(refused.status, path).toBe(401);
      expect(refused.headers.get('www-authenticate')).toBe('Bearer');
      expect([200, 404], path).toContain((await gw.api(path, { token: viewer })).status);
    }
    expect((await gw.api('/api/health', { token: null })).status).toBe(200);
    expect(await (await gw.api('/api/whoami', { token: viewer })).json()).toEqual({ name: 'wall screen', role: 'viewer' });
  });

  it('a token added with the CLI works within a second, and stops working within a second of `token revoke`', async () => {
    gw = await startTestGateway();
    const config = ['--config', await gw.writeConfigFile()];
    const out = { stdout: '', stderr: '' };
    const io = {
      env: {},
      cwd: gw.dataDir,
      stdout: { write: (t: string) => (out.stdout += t) },
      stderr: { write: (t: string) => (out.stderr += t) },
      onSignal: () => () => undefined,
    };
    expect(await runCli(['token', 'add', 'maria', '--role', 'staff', ...config], io)).toBe(0);
    const { token } = JSON.parse(out.stdout) as { token: string };
    expect(token).toMatch(/^sst_[A-Za-z0-9_-]{43}$/);
    expect(out.stderr).toContain('shown this once');
    const added = Date.now();
    await eventually(
      async () => ((await gw!.api('/api/whoami', { token })).status === 200 ? true : undefined),
      1_000,
      'the new token to work',
    );
    expect(Date.now() - added).toBeLessThan(1_000);

    out.stdout = '';
    expect(await runCli(['token', 'list', ...config], io)).toBe(0);
    expect(out.stdout).toMatch(/^maria\tstaff\t\d{4}-/m);
    expect(out.stdout).not.toContain(token);
    expect(await runCli(['token', 'add', 'maria', '--role', 'admin', ...config], io)).toBe(1);
    expect(out.stderr).toContain('a token named "maria" exists');

    expect(await runCli(['token', 'revoke', 'maria', ...config], io)).toBe(0);
    const revoked = Date.now();
    await eventually(
      async () => ((await gw!.api('/api/whoami', { token })).status === 401 ? true : undefined),
      1_000,
      'the revoked token to be refused',
    );
    expect(Date.now() - revoked).toBeLessThan(1_000);
    expect(await runCli(['token', 'revoke', 'maria', ...config], io)).toBe(1);
    expect(await runCli(['token', 'add', 'bad/name', '--role', 'staff', ...config], io)).toBe(1);
  });

  it("`token revoke` in another process ends the token's live streams (token or ticket) in 1 s and voids unused tickets", async () => {
    gw = await startTestGateway();
    const configFile = await gw.writeConfigFile();
    const maria = await gw.addToken('maria', 'viewer');
    const wall = await gw.addToken('wall screen', 'viewer');
    const ticketOf = async (token: string) =>
      ((await (await gw!.api('/api/events/ticket', { method: 'POST', token })).json()) as { ticket: string }).ticket;

    const byTicket = openStream(`${gw.httpUrl}/api/events?ticket=${encodeURIComponent(await ticketOf(maria))}`);
    const byHeader = openStream(`${gw.httpUrl}/api/events`, maria);
    const other = openStream(`${gw.httpUrl}/api/events`, wall);
    const unused = await ticketOf(maria);
    try {
      await Promise.all([byTicket.ready, byHeader.ready, other.ready]);
      expect(await gw.built.metrics.value('smartstore_sse_clients')).toBe(3);

      // the real CLI, as store IT runs it: its own process and database connection
      // (rejects unless it exits 0)
      await execFileAsync(process.execPath, [builtGatewayCli(), 'token', 'revoke', 'maria', '--config', configFile], {
        cwd: gw.dataDir,
        timeout: 15_000,
      });
      const revokedAt = Date.now();
      const timeout = new Promise<number[]>((_resolve, reject) =>
        setTimeout(() => reject(new Error("the revoked token's streams are still open")), 3_000).unref(),
      );
      const endedAfterMs = (await Promise.race([Promise.all([byTicket.ended, byHeader.ended]), timeout])).map((at) => at - revokedAt);
      expect(Math.max(...endedAfterMs)).toBeLessThan(1_000);
      expect((await gw.api(`/api/events?ticket=${encodeURIComponent(unused)}`, { token: null })).status).toBe(401);
      expect((await gw.api('/api/events/ticket', { method: 'POST', token: maria })).status).toBe(401);

      // the other token's stream is still open and still fed
      expect(await gw.built.metrics.value('smartstore_sse_clients')).toBe(1);
      const connection = { deviceId: 'shelf-a', kind: 'shelf' as const, source: 'mqtt', connected: true, at: Date.now() };
      gw.built.bus.emit('device.connection', connection);
      await eventually(
        () => (other.text().includes(`event: device\ndata: ${JSON.stringify(connection)}`) ? true : undefined),
        2_000,
        'the other stream to get the event',
      );
    } finally {
      for (const stream of [byTicket, byHeader, other]) stream.close();
    }
  });

  it('the metrics token scrapes /metrics and nothing else', async () => {
    const scrape = 'scrape-token-0123456789abcdef';
    gw = await startTestGateway({ overrides: { http: { metricsToken: scrape } } });
    const metrics = await gw.api('/metrics', { token: scrape });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('smartstore_api_access_denied_total');
    expect((await gw.api('/api/alerts', { token: scrape })).status).toBe(401);
    expect((await gw.api('/metrics', { token: 'wrong-scrape-token-0123456789' })).status).toBe(401);
  });

  it('a foreign Host header (DNS rebinding) gets 421 on every route; IP literals, localhost and allowedHosts pass', async () => {
    gw = await startTestGateway({ overrides: { http: { allowedHosts: ['gateway.store.local'] } } });
    const port = new URL(gw.httpUrl).port;
    const withHost = (host: string, path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path, headers: { host, authorization: `Bearer ${TEST_TOKEN}` } }, (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    for (const path of ['/api/alerts', '/api/health', '/', '/api/events']) {
      const refused = await withHost(`attacker.example:${port}`, path);
      expect(refused.status, path).toBe(421);
      expect(JSON.parse(refused.body)).toMatchObject({
        statusCode: 421,
        message: 'this gateway does not answer to host "attacker.example:' + port + '" (add it to http.allowedHosts)',
      });
    }
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `[::1]:${port}`,
      `gateway.store.local:${port}`,
      'GATEWAY.store.local',
      '10.1.2.3',
    ]) {
      expect((await withHost(host, '/api/alerts')).status, host).toBe(200);
    }
  });

  it('past maxAuthFailuresPerMinute wrong tokens from an address get 429, Retry-After; a valid token from it is still served', async () => {
    gw = await startTestGateway({ overrides: { http: { maxAuthFailuresPerMinute: 50 } } });
    const viewer = await gw.addToken('wall screen', 'viewer');
    for (let i = 0; i < 50; i++) expect((await gw.api('/api/alerts', { token: `guess-${i}-0123456789abcdef` })).status).toBe(401);
    for (let i = 50; i < 53; i++) {
      const limited = await gw.api('/api/alerts', { token: `guess-${i}-0123456789abcdef` });
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    }
    // the same address, valid tokens: served (today: 429 for the next minute)
    expect((await gw.api('/api/alerts')).status).toBe(200);
    expect((await gw.api('/api/whoami', { token: viewer })).status).toBe(200);
    const ticket = (await (await gw.api('/api/events/ticket', { method: 'POST', token: viewer })).json()) as { ticket: string };
    expect(ticket.ticket).toBeTruthy();
    // ...while guessing stays throttled, a made-up stream ticket included
    expect((await gw.api('/api/alerts', { token: 'guess-after-0123456789abcdef' })).status).toBe(429);
    expect((await gw.api('/api/events?ticket=made-up-ticket', { token: null })).status).toBe(429);
    // a missing token is not a guess: 401 (not 429), and /api/health stays open
    expect((await gw.api('/api/alerts', { token: null })).status).toBe(401);
    expect((await gw.api('/api/health', { token: null })).status).toBe(200);
    const denied = await (await gw.api('/metrics', { token: 'guess-metrics-0123456789' })).text();
    expect(denied).toContain('Too Many Requests');
    expect(await gw.built.metrics.value('smartstore_api_access_denied_total', { outcome: 'rate-limited' })).toBe(6);
  });
});
