/**
 * Issue 13 §3: store IT disables, enables, re-keys and removes devices — through the API, or with the CLI, which is
 * another process on the same SQLite file. A connected device is disconnected within a second either way, and its
 * next CONNECT gets the answer its new state deserves.
 */
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceLifecycleEvent } from '../../edge/device-registry/device-source.js';
import { DeviceRegistry } from '../../edge/device-registry/device-registry.js';
import { DeviceStore } from '../../edge/device-registry/device-store.js';
import { SqliteDatabase } from '../../edge/storage/database.js';
import { eventually, startTestGateway, TEST_TOKEN, type TestGateway } from '../helpers/test-gateway.js';

/** MQTT 3.1.1 CONNACK return codes the broker answers with */
const BAD_CREDENTIALS = 4;
const NOT_AUTHORIZED = 5;
const DEADLINE_MS = 1_000;

let gw: TestGateway;
const clients = new Set<MqttClient>();
const events: DeviceLifecycleEvent[] = [];

beforeAll(async () => {
  gw = await startTestGateway();
  gw.built.bus.on('device.lifecycle', 'test', (event) => events.push(event));
});
afterEach(async () => {
  await Promise.all([...clients].map((client) => client.endAsync(true).catch(() => undefined)));
  clients.clear();
});
afterAll(async () => gw?.dispose());

function connect(id: string, secret: string): Promise<{ ok: true; client: MqttClient } | { ok: false; code: number | undefined }> {
  return new Promise((resolve) => {
    const client = mqtt.connect(gw.mqttUrl, { clientId: id, username: id, password: secret, reconnectPeriod: 0, connectTimeout: 3_000 });
    clients.add(client);
    client.once('connect', () => resolve({ ok: true, client }));
    client.once('error', (error) => {
      client.end(true);
      resolve({ ok: false, code: (error as { code?: number }).code });
    });
  });
}

async function connected(id: string, secret: string): Promise<MqttClient> {
  const result = await connect(id, secret);
  if (!result.ok) throw new Error(`${id} could not connect (CONNACK ${result.code})`);
  return result.client;
}

/** Runs `action` and resolves with the ms until the client saw its connection closed (fails after 3 s). */
async function msUntilClosed(client: MqttClient, action: () => Promise<unknown>): Promise<number> {
  const closedAt = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the connection was not closed within 3 s')), 3_000);
    client.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now());
    });
  });
  const startedAt = Date.now();
  await action();
  return (await closedAt) - startedAt;
}

const post = (path: string, options: { token?: string | null } = { token: TEST_TOKEN }) => gw.api(path, { method: 'POST', ...options });

async function register(id: string, kind: 'shelf' | 'esl' | 'kiosk'): Promise<{ secret: string; warning?: string }> {
  const response = await gw.api('/api/devices', { method: 'POST', token: TEST_TOKEN, body: JSON.stringify({ id, kind }) });
  expect(response.status).toBe(201);
  return (await response.json()) as { secret: string; warning?: string };
}

describe('through the API', () => {
  it('disable closes the connection within a second and the device is refused (not authorized); enable lets it in again', async () => {
    const { secret } = await register('shelf-a', 'shelf');
    const client = await connected('shelf-a', secret);
    let answer: Response | undefined;
    const ms = await msUntilClosed(client, async () => (answer = await post('/api/devices/shelf-a/disable')));
    expect(ms).toBeLessThan(DEADLINE_MS);
    expect(answer?.status).toBe(200);
    expect(await answer?.json()).toMatchObject({ id: 'shelf-a', kind: 'shelf', disabled: true });
    expect(events.at(-1)).toMatchObject({ deviceId: 'shelf-a', kind: 'shelf', change: 'disabled' });
    expect(await connect('shelf-a', secret)).toEqual({ ok: false, code: NOT_AUTHORIZED });

    const enabled = await post('/api/devices/shelf-a/enable');
    expect(enabled.status).toBe(200);
    expect(await enabled.json()).toMatchObject({ id: 'shelf-a', disabled: false });
    expect(events.at(-1)).toMatchObject({ deviceId: 'shelf-a', change: 'enabled' });
    await connected('shelf-a', secret);
  });

  it('rotate-secret returns the new secret once, closes the connection; the old secret is refused, the new one works', async () => {
    const { secret: old } = await register('esl-rot', 'esl');
    const client = await connected('esl-rot', old); // the broker now remembers this secret's fingerprint
    let answer: Response | undefined;
    const ms = await msUntilClosed(client, async () => (answer = await post('/api/devices/esl-rot/rotate-secret')));
    expect(ms).toBeLessThan(DEADLINE_MS);
    expect(answer?.status).toBe(200);
    const body = (await answer?.json()) as { id: string; kind: string; secret: string };
    expect(body).toEqual({ id: 'esl-rot', kind: 'esl', secret: expect.stringMatching(/^[A-Za-z0-9_-]{32}$/) as string });
    expect(body.secret).not.toBe(old);
    expect(await connect('esl-rot', old)).toEqual({ ok: false, code: BAD_CREDENTIALS });
    await connected('esl-rot', body.secret);
    // the secret is not shown again
    const listed = JSON.stringify(await (await gw.api('/api/devices')).json());
    expect(listed).not.toContain(body.secret);
  });

  it('DELETE closes the connection within a second; the device is refused as unknown (bad credentials)', async () => {
    const { secret } = await register('kiosk-rm', 'kiosk');
    const client = await connected('kiosk-rm', secret);
    let answer: Response | undefined;
    const ms = await msUntilClosed(
      client,
      async () => (answer = await gw.api('/api/devices/kiosk-rm', { method: 'DELETE', token: TEST_TOKEN })),
    );
    expect(ms).toBeLessThan(DEADLINE_MS);
    expect(answer?.status).toBe(204);
    expect(events.at(-1)).toMatchObject({ deviceId: 'kiosk-rm', change: 'removed' });
    expect(await connect('kiosk-rm', secret)).toEqual({ ok: false, code: BAD_CREDENTIALS });
    expect(gw.built.devices.registry.get('kiosk-rm')).toBeUndefined();
  });

  it('an unknown id answers 404 on every route; no token answers 401 and changes nothing', async () => {
    for (const action of ['disable', 'enable', 'rotate-secret']) {
      const response = await post(`/api/devices/nobody-1/${action}`);
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ statusCode: 404, error: 'Not Found', message: 'no device nobody-1' });
    }
    expect((await gw.api('/api/devices/nobody-1', { method: 'DELETE', token: TEST_TOKEN })).status).toBe(404);
    await register('esl-guarded', 'esl');
    expect((await post('/api/devices/esl-guarded/disable', { token: null })).status).toBe(401);
    expect((await gw.api('/api/devices/esl-guarded', { method: 'DELETE', token: null })).status).toBe(401);
    expect(gw.built.devices.registry.get('esl-guarded')).toMatchObject({ disabled: false });
  });

  it('registering a shelf the planogram does not list succeeds with a warning; GET flags it unmapped and shows liveness', async () => {
    const mapped = await register('shelf-b', 'shelf');
    expect(mapped.warning).toBeUndefined();
    const unmapped = await register('shelf-zz', 'shelf');
    expect(unmapped.warning).toMatch(/^shelf shelf-zz is not in the planogram/);
    expect((await register('esl-plain', 'esl')).warning).toBeUndefined();
    await connected('shelf-b', mapped.secret);
    await post('/api/devices/esl-plain/disable');

    const listed = await eventually(async () => {
      const body = (await (await gw.api('/api/devices')).json()) as { devices: Array<Record<string, unknown>> };
      const byId = new Map(body.devices.map((d) => [d.id, d]));
      return byId.get('shelf-b')?.connected === true ? byId : undefined;
    });
    expect(listed.get('shelf-b')).toEqual({
      id: 'shelf-b',
      kind: 'shelf',
      connected: true,
      disabled: false,
      lastSeenAt: expect.any(Number) as number,
    });
    expect(listed.get('shelf-zz')).toEqual({
      id: 'shelf-zz',
      kind: 'shelf',
      connected: false,
      disabled: false,
      lastSeenAt: null,
      unmapped: true,
    });
    expect(listed.get('esl-plain')).toEqual({ id: 'esl-plain', kind: 'esl', connected: false, disabled: true, lastSeenAt: null });
  });
});

describe('through another connection to the same file (the CLI in another process)', () => {
  let db: SqliteDatabase;
  let cli: DeviceRegistry;

  beforeAll(async () => {
    db = new SqliteDatabase(join(gw.dataDir, 'gateway.db'));
    await db.open();
  });
  afterAll(async () => db?.close());

  /** A fresh registry per command, as each CLI invocation loads one. */
  async function cliRegistry(): Promise<DeviceRegistry> {
    cli = new DeviceRegistry(new DeviceStore(db), { scryptCost: 1024, now: Date.now });
    await cli.start();
    return cli;
  }

  it('a device added there can connect within a second', async () => {
    const secret = await (await cliRegistry()).provision('shelf-cli', 'shelf');
    const startedAt = Date.now();
    await eventually(
      async () => {
        const result = await connect('shelf-cli', secret);
        return result.ok ? result.client : undefined;
      },
      3_000,
      'the gateway to accept a device the CLI added',
    );
    expect(Date.now() - startedAt).toBeLessThan(DEADLINE_MS);
    expect(events.some((e) => e.deviceId === 'shelf-cli' && e.change === 'added')).toBe(true);
  });

  it('disable there: disconnected within a second, then refused (not authorized); enable there: accepted again', async () => {
    const secret = await gw.built.devices.registry.provision('esl-cli', 'esl');
    const client = await connected('esl-cli', secret);
    const ms = await msUntilClosed(client, async () =>
      expect(await (await cliRegistry()).disable('esl-cli')).toMatchObject({ disabled: true }),
    );
    expect(ms).toBeLessThan(DEADLINE_MS);
    expect(events.at(-1)).toMatchObject({ deviceId: 'esl-cli', change: 'disabled' });
    expect(await connect('esl-cli', secret)).toEqual({ ok: false, code: NOT_AUTHORIZED });

    // a disabled device keeps retrying: those refusals must not lock it out once it is enabled again
    for (let attempt = 0; attempt < 12; attempt++) expect(await connect('esl-cli', secret)).toEqual({ ok: false, code: NOT_AUTHORIZED });
    await (await cliRegistry()).enable('esl-cli');
    await eventually(
      async () => {
        const result = await connect('esl-cli', secret);
        return result.ok ? true : undefined;
      },
      3_000,
      'the gateway to accept the device enabled again',
    );
  });

  it('rotate there: disconnected within a second; the old secret is refused, the new one works', async () => {
    const old = await gw.built.devices.registry.provision('kiosk-cli', 'kiosk');
    const client = await connected('kiosk-cli', old);
    let rotated: { secret: string } | undefined;
    const ms = await msUntilClosed(client, async () => (rotated = await (await cliRegistry()).rotateSecret('kiosk-cli')));
    expect(ms).toBeLessThan(DEADLINE_MS);
    expect(await connect('kiosk-cli', old)).toEqual({ ok: false, code: BAD_CREDENTIALS });
    await connected('kiosk-cli', rotated!.secret);
  });

  it('remove there: disconnected within a second, then refused (bad credentials)', async () => {
    const secret = await gw.built.devices.registry.provision('shelf-gone', 'shelf');
    const client = await connected('shelf-gone', secret);
    const ms = await msUntilClosed(client, async () => (await cliRegistry()).remove('shelf-gone'));
    expect(ms).toBeLessThan(DEADLINE_MS);
    expect(events.at(-1)).toMatchObject({ deviceId: 'shelf-gone', change: 'removed' });
    expect(await connect('shelf-gone', secret)).toEqual({ ok: false, code: BAD_CREDENTIALS });
  });
});
