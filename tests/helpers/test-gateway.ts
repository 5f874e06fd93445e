/** Starts a real gateway for integration tests: aedes and HTTP on port 0, SQLite in a temp dir, quiet logs. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { newApiToken, tokenDigest } from '../../edge/access/api-token.js';
import type { Role } from '../../edge/http/roles.js';
import { createLogger } from '../../edge/core/logger.js';
import { loadConfig } from '../../edge/config/load-config.js';
import type { GatewayConfig } from '../../edge/config/gateway-config.js';
import type { GatewayEvents } from '../../edge/core/events.js';
import type { DeviceKind } from '../../edge/device-registry/topics.js';
import { buildGateway, type StoreGateway } from '../../edge/main.js';
import { staffPageDir } from './staff-page.js';

export const TEST_TOKEN = 'test-token-0123456789abcdef';

/** Two shelves, small capacities: a facing drains in a few readings. */
export const TEST_PLANOGRAM = {
  products: [
    { sku: '4000000000017', name: 'Oat milk 1 l', unitWeightG: 1040, priceCents: 189 },
    { sku: '4000000000024', name: 'Espresso beans 500 g', unitWeightG: 520, priceCents: 799 },
    { sku: '4000000000031', name: 'Dark chocolate 100 g', unitWeightG: 105, priceCents: 149 },
  ],
  shelves: [
    {
      id: 'shelf-a',
      facings: [
        { facing: 1, sku: '4000000000017', capacityUnits: 10, lowStockUnits: 2, restockUnits: 5 },
        { facing: 2, sku: '4000000000024', capacityUnits: 8, lowStockUnits: 2, restockUnits: 4 },
      ],
    },
    { id: 'shelf-b', facings: [{ facing: 1, sku: '4000000000031', capacityUnits: 20, lowStockUnits: 4, restockUnits: 10 }] },
  ],
};

export type TestGateway = {
  built: StoreGateway;
  config: GatewayConfig;
  dataDir: string;
  mqttUrl: string;
  httpUrl: string;
  /** provisions a device and returns a connected MQTT client for it */
  connectDevice(id: string, kind: DeviceKind, options?: mqtt.IClientOptions): Promise<MqttClient>;
  /** a request with the admin config token (TEST_TOKEN) unless `token` names another, or is null for none */
  api(path: string, init?: RequestInit & { token?: string | null }): Promise<Response>;
  /** a config file for the CLI's store-IT commands (`device …`, `token …`) that points at this gateway's data dir */
  writeConfigFile(): Promise<string>;
  /** creates a named token as `token add` does and returns it */
  addToken(name: string, role: Role): Promise<string>;
  stop(): Promise<void>;
  /** stops and removes the temp dir */
  dispose(): Promise<void>;
};

export type TestGatewayOptions = {
  dataDir?: string;
  overrides?: Record<string, unknown>;
  planogram?: unknown;
  /** collects every log line (debug and up) as the gateway writes it, through the production logger (redaction included) */
  logLines?: string[];
  /** the gateway's clock (receivedAt of every message, alert times): a test moves it ahead to play hours in seconds */
  now?: () => number;
};

export async function startTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'smartstore-test-')));
  const planogramFile = join(dataDir, 'planogram.yaml');
  await writeFile(planogramFile, stringify(options.planogram ?? TEST_PLANOGRAM));
  const base = {
    storeId: 'test-store',
    dataDir,
    log: { level: 'silent', pretty: false },
    // every test client connects from 127.0.0.1; the per-address limits have their own test
    mqtt: { host: '127.0.0.1', port: 0, maxConnectionsPerAddress: 100_000, maxConnectAttemptsPerAddressPerMinute: 1_000_000 },
    // tests send many refused requests from one address on purpose; the limit has its own test
    http: { host: '127.0.0.1', port: 0, apiToken: TEST_TOKEN, maxAuthFailuresPerMinute: 100_000 },
    planogram: { file: planogramFile },
    lowStock: { smoothingWindow: 1, debounceMs: 200, staleAfterMs: 60_000 },
    storage: { flushIntervalMs: 100 },
    security: { scryptCost: 1024 },
    // snoozes end within a test's patience
    alerts: { snoozeCheckMs: 50 },
  };
  const config = await loadConfig({ overrides: mergeDeep(base, options.overrides ?? {}), env: {} });
  const lines = options.logLines;
  const log = lines
    ? createLogger({ level: 'debug', pretty: false }, { destination: { write: (line: string) => lines.push(line) }, isTTY: false })
    : pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  // this run's build of the staff page (tests/global-setup.ts), not the shared dist/staff another run may be rewriting
  const built = buildGateway(config, { log, staticDir: staffPageDir(), ...(options.now ? { now: options.now } : {}) });
  try {
    await built.gateway.start();
  } catch (error) {
    // a start that fails on purpose leaves no temp dir behind
    if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  const mqttUrl = `mqtt://127.0.0.1:${built.broker.port}`;
  const httpUrl = `http://127.0.0.1:${built.http.port}`;
  const clients: MqttClient[] = [];
  let stopped = false;

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await built.gateway.stop();
  };

  return {
    built,
    config,
    dataDir,
    mqttUrl,
    httpUrl,
    async connectDevice(id, kind, mqttOptions = {}) {
      const secret = await built.devices.registry.provision(id, kind);
      const client = await mqtt.connectAsync(mqttUrl, {
        clientId: id,
        username: id,
        password: secret,
        reconnectPeriod: 0,
        keepalive: 30,
        ...mqttOptions,
      });
      clients.push(client);
      return client;
    },
    api(path, init = {}) {
      const { token = TEST_TOKEN, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (token !== null && !headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
      if (rest.body && !headers.has('content-type')) headers.set('content-type', 'application/json');
      return fetch(httpUrl + path, { ...rest, headers });
    },
    async writeConfigFile() {
      const file = join(dataDir, 'cli-config.yaml');
      await writeFile(file, stringify({ dataDir, log: { level: 'silent', pretty: false }, security: { scryptCost: 1024 } }));
      return file;
    },
    async addToken(name, role) {
      const token = newApiToken();
      await built.access.store.add({ name, role, digest: tokenDigest(token) }, Date.now());
      await built.access.tokens.load(); // same connection: data_version does not move for our own commits
      return token;
    },
    stop,
    async dispose() {
      await stop();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

function mergeDeep(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object'
        ? mergeDeep(cur as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

/** Polls until `check` returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 5_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Resolves with the first bus event that matches (subscribe before causing it), or fails after `timeoutMs`. */
export function nextEvent<K extends keyof GatewayEvents>(
  gw: TestGateway,
  event: K,
  match: (payload: GatewayEvents[K]) => boolean,
  timeoutMs = 5_000,
): Promise<GatewayEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`no matching ${event} within ${timeoutMs} ms`));
    }, timeoutMs);
    const unsubscribe = gw.built.bus.on(event, 'test', (payload) => {
      if (!match(payload)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(payload);
    });
  });
}

/**
 * Gateways that survive a restart within one test (same data dir) and the shelf clients talking to them: `start()`
 * starts one, `connectShelf()` connects shelf `shelfId` (provisioned with a fixed secret, so it can reconnect after a
 * restart) and returns a function that publishes a weight for one facing. `dispose()` (afterEach) stops everything.
 */
export function restartableShelfGateways(shelfId = 'shelf-a', secret = 'shelf-a-secret-0123456789') {
  const gateways: TestGateway[] = [];
  const clients: MqttClient[] = [];
  return {
    async start(options: TestGatewayOptions = {}): Promise<TestGateway> {
      const gw = await startTestGateway(options);
      gateways.push(gw);
      return gw;
    },
    async connectShelf(gw: TestGateway, provision: boolean, facing: number): Promise<(weightG: number) => Promise<unknown>> {
      if (provision) await gw.built.devices.registry.provision(shelfId, 'shelf', secret);
      const client = await mqtt.connectAsync(gw.mqttUrl, {
        clientId: shelfId,
        username: shelfId,
        password: secret,
        reconnectPeriod: 0,
        keepalive: 30,
      });
      clients.push(client);
      return (weightG) =>
        client.publishAsync(`store/test-store/shelf/${shelfId}/weight`, JSON.stringify({ facing, weightG, ts: Date.now() }), { qos: 1 });
    },
    /** ends the shelves' connections (before a restart) */
    async disconnectShelves(): Promise<void> {
      await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
    },
    async dispose(): Promise<void> {
      await this.disconnectShelves();
      for (const gw of gateways.splice(0).reverse()) await gw.dispose();
    },
  };
}
