/**
 * kill -9 mid-burst, 20 times (issue 15): the gateway runs as a child process (`smartstore-edge run`, built once per
 * run by tests/global-setup.ts), a kiosk publishes QoS 1 events as fast as PUBACKs allow, and the test SIGKILLs
 * the gateway while publishes are in flight, then starts it again on the same data dir. Every event whose PUBACK the
 * kiosk received must reach HQ (Mosquitto) — the PUBACK waits until the event is durable in the outbox.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../edge/cli/program.js';
import { builtGatewayCli } from '../helpers/built-gateway.js';
import { freePort, hasMosquitto, hqSubscriber, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { eventually } from '../helpers/test-gateway.js';

const CYCLES = 20;
const ACKED_BEFORE_KILL = 40;

let work: string;
let dataDir: string;
let configFile: string;
let hq: Mosquitto;
let mqttPort: number;
let secret: string;
let gateway: ChildProcess | undefined;

/** Starts `smartstore-edge run` as a child; resolves once its broker answers a CONNECT. */
async function startGateway(): Promise<ChildProcess> {
  const child = spawn(process.execPath, [builtGatewayCli(), 'run', '--config', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`gateway exited ${child.exitCode}: ${stderr}`);
      const probe = await mqtt
        .connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
          clientId: 'kiosk-1',
          username: 'kiosk-1',
          password: secret,
          reconnectPeriod: 0,
          connectTimeout: 500,
        })
        .catch(() => undefined);
      if (!probe) return undefined;
      await probe.endAsync(true);
      return true;
    },
    30_000,
    'the gateway child to accept devices',
  );
  return child;
}

/** Publishes QoS 1 kiosk events one after another (a window of 8 in flight); records each whose PUBACK arrived. */
function publishUntilKilled(client: MqttClient, cycle: number, acked: Set<string>, onAcked: (count: number) => void): void {
  let n = 0;
  let ackedThisCycle = 0;
  const next = () => {
    if (!client.connected) return;
    const basketId = `c${cycle}-${n++}`;
    client.publish(
      'store/kill-store/kiosk/kiosk-1/event',
      JSON.stringify({ type: 'basket-open', basketId, ts: Date.now() }),
      { qos: 1 },
      (error) => {
        if (error) return;
        acked.add(basketId);
        onAcked(++ackedThisCycle);
        next();
      },
    );
  };
  for (let i = 0; i < 8; i++) next();
}

describe.skipIf(!hasMosquitto)('kill -9 mid-burst', () => {
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'smartstore-gateway-kill-'));
    hq = await startMosquitto();
    mqttPort = await freePort();
    dataDir = join(work, 'data');
    configFile = join(work, 'kill.yaml');
    await writeFile(
      configFile,
      stringify({
        storeId: 'kill-store',
        dataDir,
        log: { level: 'warn', pretty: false },
        mqtt: { host: '127.0.0.1', port: mqttPort, maxConnectionsPerAddress: 1_000, maxConnectAttemptsPerAddressPerMinute: 100_000 },
        http: { host: '127.0.0.1', port: 0 },
        security: { scryptCost: 1024 },
        hq: {
          enabled: true,
          url: hq.url,
          topicPrefix: 'hq-kill',
          keepaliveSec: 2,
          connectTimeoutMs: 1_000,
          reconnectMinMs: 50,
          reconnectMaxMs: 300,
        },
      }),
    );
    let out = '';
    const io = {
      env: {},
      cwd: work,
      stdout: { write: (t: string) => (out += t) },
      stderr: { write: () => true },
      onSignal: () => () => undefined,
    };
    expect(await runCli(['device', 'add', 'kiosk-1', '--kind', 'kiosk', '--init', '--config', configFile], io)).toBe(0);
    secret = (JSON.parse(out) as { secret: string }).secret;
  }, 60_000);

  afterAll(async () => {
    const child = gateway;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
    }
    await hq?.stop();
    await rm(work, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }, 30_000);

  it(`every PUBACKed kiosk event reaches HQ across ${CYCLES} SIGKILLs mid-burst`, async () => {
    const atHq = await hqSubscriber(hq.url, 'hq-kill/kill-store/events/store.kiosk.event', {
      clean: false,
      clientId: 'hq-kill-consumer',
      properties: { sessionExpiryInterval: 3_600 },
    });
    const acked = new Set<string>();
    try {
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        gateway = await startGateway();
        const kiosk = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
          clientId: 'kiosk-1',
          username: 'kiosk-1',
          password: secret,
          reconnectPeriod: 0,
          keepalive: 5,
        });
        kiosk.on('error', () => undefined);
        const killed = new Promise<void>((resolve) =>
          publishUntilKilled(kiosk, cycle, acked, (count) => {
            if (count !== ACKED_BEFORE_KILL) return;
            // mid-burst: eight more publishes are in flight, some written, some waiting for their PUBACK
            gateway?.kill('SIGKILL');
            resolve();
          }),
        );
        await killed;
        const child = gateway;
        await new Promise<void>((resolve) =>
          child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve()),
        );
        kiosk.end(true);
      }
      expect(acked.size).toBeGreaterThanOrEqual(CYCLES * ACKED_BEFORE_KILL);

      // one last start drains what the outbox kept to HQ
      gateway = await startGateway();
      const atHqIds = () => new Set(atHq.messages.map((m) => (m.event.data as { basketId?: string }).basketId));
      await eventually(
        () => ([...acked].every((id) => atHqIds().has(id)) ? true : undefined),
        30_000,
        'every acknowledged event at HQ',
      ).catch(() => undefined);
      const missing = [...acked].filter((id) => !atHqIds().has(id));
      expect(missing).toEqual([]);
    } finally {
      const child = gateway;
      if (child && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        await exited;
      }
      await atHq.close();
    }
  }, 300_000);
});
