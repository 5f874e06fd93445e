/**
 * Benchmark (issue 15, b and c) — the relay's forwarder draining to Mosquitto (Debian's, 127.0.0.1, as HQ):
 *  - latency: a kiosk publishes QoS 1 events to the full gateway (`buildGateway`, hq relay on); each is timed from the
 *    kiosk's PUBLISH to its arrival at an HQ subscriber (device → broker → recorder → outbox group commit → live lane →
 *    Mosquitto → subscriber), first with an empty outbox (healthy), then while a backlog of `backlogEvents` drains
 *    behind the live lane at the configured cap (`capRatePerS`);
 *  - capped drain: backlog events HQ acknowledged per second during that second phase (should sit at the cap);
 *  - uncapped drain: the rest of that backlog, reopened from the same outbox file by a forwarder without cap, timed
 *    until the outbox is empty — events/s (target ≥ 20,000/s).
 * The link is cut while the backlog is filled by a gate (a TCP proxy that refuses or passes) between gateway and HQ.
 * Backlog events go to a topic no subscriber reads (HQ's consumers are not what is measured); live ones to one that is.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer, connect, type Socket } from 'node:net';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { loadConfig } from '../edge/config/load-config.js';
import { buildGateway, type StoreGateway } from '../edge/main.js';
import { Forwarder } from '../edge/relay/forwarder.js';
import { configDefaults } from '../edge/core/schema-defaults.js';
import { OutboxConfigSchema } from '../edge/relay/outbox-config.js';
import { SqliteOutbox } from '../edge/relay/outbox-store.js';
import type { OutboxRow, RelayEvent } from '../edge/relay/outbox.js';
import { makeTempDir, removeTempDir, track } from './ipc.js';
import { freePort } from './mosquitto.js';
import { percentile, sleep } from './stats.js';

const MOSQUITTO_BIN = '/usr/sbin/mosquitto';
const GiB = 1024 * 1024 * 1024;
const STORE = 'bench-store';
const PREFIX = 'bench-hq';

export type RelayDrainSettings = {
  /** events in the backlog, e.g. 1,000,000 */
  backlogEvents: number;
  /** the backlog's rate cap while latency is measured under a draining backlog, events/s */
  capRatePerS: number;
  /** live events timed per phase */
  latencySamples: number;
  /** between two live events */
  latencyIntervalMs: number;
  /** publishes in flight to HQ; default 1,000 */
  maxInFlight?: number;
};

export type LatencyFigures = { samples: number; p50Ms: number; p99Ms: number; maxMs: number };

export type RelayDrainResult = {
  backlogEvents: number;
  bodyBytes: number;
  fillEventsPerS: number;
  uncapped: { events: number; elapsedMs: number; eventsPerS: number };
  capped: { capRatePerS: number; events: number; elapsedMs: number; eventsPerS: number };
  latencyHealthy: LatencyFigures;
  latencyDuringDrain: LatencyFigures & { backlogLeftAtEnd: number };
};

export async function runRelayDrainBench(
  settings: RelayDrainSettings,
  progress: (line: string) => void = () => undefined,
): Promise<RelayDrainResult> {
  if (!existsSync(MOSQUITTO_BIN)) throw new Error(`${MOSQUITTO_BIN} not found: the relay benchmark needs Debian's mosquitto`);
  const dir = await makeTempDir('relay-drain');
  const hq = await startHq(dir);
  const gate = await startGate(hq.port);
  const maxInFlight = settings.maxInFlight ?? 1_000;
  let gateway: StoreGateway | undefined;
  try {
    const config = await loadConfig({
      env: {},
      overrides: {
        storeId: STORE,
        dataDir: join(dir, 'gateway'),
        log: { level: 'silent', pretty: false },
        mqtt: { host: '127.0.0.1', port: 0 },
        http: { host: '127.0.0.1', port: 0 },
        security: { scryptCost: 1024 },
        hq: {
          enabled: true,
          url: `mqtt://127.0.0.1:${gate.port}`,
          topicPrefix: PREFIX,
          keepaliveSec: 5,
          reconnectMinMs: 50,
          reconnectMaxMs: 200,
          maxInFlight,
          drain: { ratePerS: settings.capRatePerS, burst: Math.max(1, Math.round(settings.capRatePerS / 10)), jitter: 0.2 },
          outbox: {
            maxPendingAppends: 20_000,
            budgets: { criticalBytes: 2 * GiB, operationalBytes: 2 * GiB, telemetryBytes: 2 * GiB, totalBytes: 6 * GiB },
          },
        },
      },
    });
    gateway = buildGateway(config, { log: pino({ level: 'silent' }) });
    await gateway.gateway.start();
    const relay = gateway.relay;
    const outbox = relay.outbox as SqliteOutbox;
    await waitFor(() => relay.status().link.up, 10_000, 'HQ link up');

    const secret = await gateway.devices.registry.provision('kiosk-bench', 'kiosk');
    const kiosk = await mqtt.connectAsync(`mqtt://127.0.0.1:${gateway.broker.port}`, {
      clientId: 'kiosk-bench',
      username: 'kiosk-bench',
      password: secret,
      reconnectPeriod: 0,
    });
    const hqSub = await mqtt.connectAsync(hq.url, { protocolVersion: 5, reconnectPeriod: 0, clientId: 'bench-hq-consumer' });
    const arrivals = new Map<string, number>();
    hqSub.on('message', (_topic, payload) => {
      const basketId = (JSON.parse(payload.toString()) as { data?: { basketId?: string } }).data?.basketId;
      if (basketId) arrivals.set(basketId, performance.now());
    });
    await hqSub.subscribeAsync(`${PREFIX}/${STORE}/events/store.kiosk.event`, { qos: 1 });

    const timeLive = async (phase: string, samples = settings.latencySamples): Promise<number[]> => {
      const latencies: number[] = [];
      for (let i = 0; i < samples; i++) {
        const basketId = `${phase}-${i}`;
        const sentAt = performance.now();
        await kiosk.publishAsync(
          `store/${STORE}/kiosk/kiosk-bench/event`,
          JSON.stringify({ type: 'basket-open', basketId, ts: Date.now() }),
          { qos: 1 },
        );
        await waitFor(() => arrivals.has(basketId), 10_000, `live event ${basketId} at HQ`);
        latencies.push((arrivals.get(basketId) as number) - sentAt);
        await sleep(settings.latencyIntervalMs);
      }
      return latencies;
    };

    // (c) healthy: an empty outbox, after a warm-up (JIT, first connections) that is not counted
    await timeLive('warmup', Math.min(50, settings.latencySamples));
    const healthy = await timeLive('healthy');
    progress(`relay latency healthy: p50 ${percentile(healthy, 50).toFixed(1)} ms, p99 ${percentile(healthy, 99).toFixed(1)} ms`);

    // the outage: the gate refuses, the backlog fills
    gate.close();
    await waitFor(() => !relay.status().link.up, 10_000, 'HQ link down');
    const makeEvent = (i: number): RelayEvent => ({
      specversion: '1.0',
      id: `backlog-${i}`,
      source: `/stores/${STORE}`,
      type: 'store.bench.backlog',
      time: new Date(1_764_560_000_000 + i).toISOString(),
      subject: `kiosk/kiosk-${i % 8}`,
      datacontenttype: 'application/json',
      data: {
        kioskId: `kiosk-${i % 8}`,
        type: 'item-scanned',
        basketId: `b-${i >> 4}`,
        sku: '4000000000017',
        qty: 1,
        priceCents: 189,
        ts: 1_764_560_000_000 + i,
      },
    });
    const fillStarted = performance.now();
    const window = 10_000;
    const pending = new Array<Promise<OutboxRow>>(window);
    for (let i = 0; i < settings.backlogEvents; i++) {
      const slot = i % window;
      if (i >= window) await pending[slot];
      pending[slot] = outbox.append(makeEvent(i), 'critical');
      if (i > 0 && i % 200_000 === 0) progress(`relay backlog: ${i} events written`);
    }
    await Promise.all(pending.slice(0, Math.min(window, settings.backlogEvents)));
    const fillEventsPerS = (settings.backlogEvents / (performance.now() - fillStarted)) * 1000;
    progress(`relay backlog: ${settings.backlogEvents} events durable (${Math.round(fillEventsPerS)}/s)`);

    // (c) live lane while the backlog drains at the cap, and (b) the capped drain rate
    gate.open();
    await waitFor(() => relay.status().link.up, 10_000, 'HQ link up again');
    const ackedBefore = relay.status().lanes.backlog.acked;
    const cappedStarted = performance.now();
    const duringDrain = await timeLive('draining');
    const cappedElapsedMs = performance.now() - cappedStarted;
    const cappedEvents = relay.status().lanes.backlog.acked - ackedBefore;
    const backlogLeftAtEnd = outbox.stats(Date.now()).perClass.critical.rows;
    progress(
      `relay latency while draining: p50 ${percentile(duringDrain, 50).toFixed(1)} ms, p99 ${percentile(duringDrain, 99).toFixed(1)} ms; ` +
        `backlog ${Math.round((cappedEvents / cappedElapsedMs) * 1000)}/s at cap ${settings.capRatePerS}`,
    );

    await kiosk.endAsync(true);
    await hqSub.endAsync(true);
    gate.close();
    await gateway.gateway.stop();
    gateway = undefined;

    // (b) uncapped: the rest of the backlog, from the same outbox file
    const uncapped = await drainUncapped(config.dataDir, `mqtt://127.0.0.1:${hq.port}`, maxInFlight);
    progress(
      `relay drain uncapped: ${uncapped.events} events in ${uncapped.elapsedMs.toFixed(0)} ms (${Math.round(uncapped.eventsPerS)}/s)`,
    );

    const figures = (values: number[]): LatencyFigures => ({
      samples: values.length,
      p50Ms: percentile(values, 50),
      p99Ms: percentile(values, 99),
      maxMs: Math.max(...values),
    });
    return {
      backlogEvents: settings.backlogEvents,
      bodyBytes: Buffer.byteLength(JSON.stringify(makeEvent(0))),
      fillEventsPerS,
      uncapped,
      capped: {
        capRatePerS: settings.capRatePerS,
        events: cappedEvents,
        elapsedMs: cappedElapsedMs,
        eventsPerS: (cappedEvents / cappedElapsedMs) * 1000,
      },
      latencyHealthy: figures(healthy),
      latencyDuringDrain: { ...figures(duringDrain), backlogLeftAtEnd },
    };
  } finally {
    await gateway?.gateway.stop().catch(() => undefined);
    await gate.stop();
    await hq.stop();
    await removeTempDir(dir);
  }
}

async function drainUncapped(dataDir: string, url: string, maxInFlight: number): Promise<RelayDrainResult['uncapped']> {
  const log = pino({ level: 'silent' });
  const outbox = new SqliteOutbox(
    dataDir,
    {
      ...configDefaults(OutboxConfigSchema),
      budgets: { criticalBytes: 2 * GiB, operationalBytes: 2 * GiB, telemetryBytes: 2 * GiB, totalBytes: 6 * GiB },
    },
    { storeId: STORE, newId: () => 'unused', now: Date.now, log },
  );
  await outbox.start();
  const rows = () => {
    const stats = outbox.stats(Date.now());
    return stats.perClass.critical.rows + stats.perClass.operational.rows + stats.perClass.telemetry.rows;
  };
  const events = rows();
  const forwarder = new Forwarder(
    {
      url,
      storeId: STORE,
      clientId: `smartstore-edge-${STORE}-uncapped`,
      topicPrefix: PREFIX,
      username: null,
      password: null,
      sessionExpirySec: 0,
      keepaliveSec: 30,
      connectTimeoutMs: 5_000,
      reconnectMinMs: 100,
      reconnectMaxMs: 1_000,
      maxInFlight,
      drain: { ratePerS: 0, burst: 1, jitter: 0 },
      readBatch: 1_000,
    },
    { outbox, log, now: Date.now },
  );
  const started = performance.now();
  forwarder.start();
  try {
    await waitFor(() => forwarder.status().lanes.backlog.acked >= events, 600_000, 'uncapped drain', 20);
    const elapsedMs = performance.now() - started;
    return { events, elapsedMs, eventsPerS: (events / elapsedMs) * 1000 };
  } finally {
    await forwarder.stop();
    await outbox.stop();
  }
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string, pollMs = 2): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`relay bench: timed out waiting for ${what}`);
    await sleep(pollMs);
  }
}

/** Mosquitto as HQ: unlimited queues and in-flight window, so HQ never drops or throttles what the store sends. */
async function startHq(dir: string): Promise<{ port: number; url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const configFile = join(dir, 'mosquitto.conf');
  const lines = [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence false',
    'log_dest none',
    'set_tcp_nodelay true',
    'max_queued_messages 0',
    'max_inflight_messages 0',
  ];
  // started as root, mosquitto drops to the `mosquitto` user, which cannot read our temp dir
  if (process.getuid?.() === 0) lines.push('user root');
  await writeFile(configFile, lines.join('\n') + '\n');
  const child = track(spawn(MOSQUITTO_BIN, ['-c', configFile], { stdio: ['ignore', 'ignore', 'inherit'] }));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 5_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('relay bench: mosquitto did not start');
    await sleep(20);
  }
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** A TCP gate between the gateway and HQ: `close()` cuts every connection and refuses new ones, `open()` passes. */
async function startGate(targetPort: number): Promise<{ port: number; open(): void; close(): void; stop(): Promise<void> }> {
  let isOpen = true;
  const sockets = new Set<Socket>();
  const server = createServer({ noDelay: true }, (client) => {
    if (!isOpen) return void client.destroy();
    const upstream = connect({ port: targetPort, host: '127.0.0.1', noDelay: true });
    sockets.add(client).add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const cut = () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  };
  return {
    port,
    open: () => void (isOpen = true),
    close: () => {
      isOpen = false;
      cut();
    },
    stop: async () => {
      cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
