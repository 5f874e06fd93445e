/**
 * Benchmark 2 — shelf drop → alert on the live stream.
 *
 * A probe shelf (mqtt.js, QoS 1) publishes the weight reading that takes a facing from full to below its low mark;
 * the clock runs from that publish() call to the `alert` event (state open, key low-stock:<shelf>/<facing>) arriving
 * on the SSE stream GET /api/events — end to end, in the same process, so one clock. Then the facing is restocked
 * (alert resolved) and the next facing is taken. Low-stock runs with smoothingWindow 1 and debounceMs 0, so this
 * measures the pipeline, not the debounce (production: median of 5, 5 s debounce).
 *
 * Measured three ways in one run: the gateway idle; the gateway with `backgroundRate` msg/s of steady telemetry from
 * other shelves (a load worker); and, as the transport floor, bare aedes delivering the same publish to an MQTT
 * subscriber under the same background load.
 */
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import type { Alert } from '../edge/alerts/alerts.js';
import { startAedesBroker, startGatewayBroker, type NodeBroker } from './brokers.js';
import {
  BENCH_API_TOKEN,
  CAPACITY_UNITS,
  STEADY_UNITS,
  benchPlanogram,
  secretOf,
  shelfId,
  topicOf,
  weightPayload,
  writePlanogram,
} from './fixture.js';
import { ChildHandle, makeTempDir, removeTempDir } from './ipc.js';
import type { PublisherSpec } from './load-worker.js';
import { SseClient } from './sse-client.js';
import { percentile, sleep } from './stats.js';

export type LatencySettings = { cycles: number; backgroundShelves: number; probeShelves: number; facings: number; backgroundRate: number };

export type LatencySample = { values: number[]; timeouts: number };
export type LatencyResult = {
  gatewayIdle: LatencySample;
  gatewayLoaded: LatencySample;
  /** restock → alert resolved, gateway under load */
  resolveLoaded: LatencySample;
  aedesLoaded: LatencySample;
  /** messages/s the gateway accepted while the loaded cycles ran */
  backgroundAchievedRate: number;
};

const DROP_UNITS = 1;
const WAIT_TIMEOUT_MS = 5_000;

function publishersFor(ids: readonly string[]): PublisherSpec[] {
  return ids.map((id) => ({ clientId: id, username: id, password: secretOf(id), topic: topicOf('shelf', id, 'weight') }));
}

/** Resolves waiters by key when a matching event arrives; a waiter that times out resolves with undefined. */
class Waiters<T> {
  private readonly waiting = new Map<string, (value: T) => void>();

  wait(key: string, timeoutMs: number): Promise<T | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(key);
        resolve(undefined);
      }, timeoutMs);
      this.waiting.set(key, (value) => {
        clearTimeout(timer);
        this.waiting.delete(key);
        resolve(value);
      });
    });
  }

  deliver(key: string, value: T): void {
    this.waiting.get(key)?.(value);
  }
}

async function startBackground(port: number, ids: readonly string[], ratePerSec: number): Promise<{ stop: () => Promise<number> }> {
  const worker = ChildHandle.fork('load-worker');
  await worker.request('connectPublishers', { port, publishers: publishersFor(ids), facings: 8, units: STEADY_UNITS });
  await worker.request('paced', { ratePerSec });
  return {
    async stop() {
      const stats = await worker.request<{ sent: number; elapsedMs: number }>('halt');
      await worker.close();
      return (stats.sent / stats.elapsedMs) * 1000;
    },
  };
}

type Probe = { shelfId: string; facing: number; client: MqttClient };

/** Drop → alert open, restock → alert resolved, over every probe facing in turn. */
async function gatewayCycles(
  probes: readonly Probe[],
  cycles: number,
  alerts: Waiters<number>,
): Promise<{ open: LatencySample; resolved: LatencySample }> {
  const open: LatencySample = { values: [], timeouts: 0 };
  const resolved: LatencySample = { values: [], timeouts: 0 };
  for (let i = 0; i < cycles; i++) {
    const probe = probes[i % probes.length] as Probe;
    const key = `low-stock:${probe.shelfId}/${probe.facing}`;
    const opened = alerts.wait(`${key}:open`, WAIT_TIMEOUT_MS);
    const t0 = performance.now();
    probe.client.publish(topicOf('shelf', probe.shelfId, 'weight'), weightPayload(probe.facing, DROP_UNITS, 0, Date.now()), { qos: 1 });
    const openedAt = await opened;
    if (openedAt === undefined) open.timeouts++;
    else open.values.push(openedAt - t0);

    const restocked = alerts.wait(`${key}:resolved`, WAIT_TIMEOUT_MS);
    const t1 = performance.now();
    probe.client.publish(topicOf('shelf', probe.shelfId, 'weight'), weightPayload(probe.facing, CAPACITY_UNITS, 0, Date.now()), { qos: 1 });
    const resolvedAt = await restocked;
    if (resolvedAt === undefined) resolved.timeouts++;
    else resolved.values.push(resolvedAt - t1);
    // not in lockstep with the background pacer's ticks
    await sleep(5 + Math.random() * 10);
  }
  return { open, resolved };
}

async function measureGateway(settings: LatencySettings, dataDir: string): Promise<Omit<LatencyResult, 'aedesLoaded'>> {
  const backgroundIds = Array.from({ length: settings.backgroundShelves }, (_, i) => shelfId(i + 1));
  const probeIds = Array.from({ length: settings.probeShelves }, (_, i) => shelfId(settings.backgroundShelves + i + 1));
  const planogramFile = join(dataDir, 'planogram.yaml');
  await writePlanogram(planogramFile, benchPlanogram([...backgroundIds, ...probeIds], settings.facings));
  const gateway = await startGatewayBroker({
    dataDir: join(dataDir, 'gateway'),
    planogramFile,
    lowStock: { smoothingWindow: 1, debounceMs: 0 },
  });
  const clients: MqttClient[] = [];
  const sse = new SseClient();
  try {
    await gateway.provision('shelf', [...backgroundIds, ...probeIds]);
    const alerts = new Waiters<number>();
    sse.onEvent((event) => {
      if (event.event !== 'alert') return;
      const alert = JSON.parse(event.data) as Alert;
      alerts.deliver(`${alert.key}:${alert.state === 'resolved' ? 'resolved' : 'open'}`, event.receivedAt);
    });
    await sse.open(`http://127.0.0.1:${gateway.httpPort}/api/events`, BENCH_API_TOKEN);

    const probes: Probe[] = [];
    for (const id of probeIds) {
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${gateway.mqttPort}`, {
        clientId: id,
        username: id,
        password: secretOf(id),
        reconnectPeriod: 0,
        keepalive: 60,
      });
      clients.push(client);
      for (let facing = 1; facing <= settings.facings; facing++) {
        // every probe facing starts full and ok
        await client.publishAsync(topicOf('shelf', id, 'weight'), weightPayload(facing, CAPACITY_UNITS, 0, Date.now()), { qos: 1 });
        probes.push({ shelfId: id, facing, client });
      }
    }
    await sleep(200);
    const warmup = Math.min(probes.length, 20);
    await gatewayCycles(probes, warmup, alerts);
    const idle = await gatewayCycles(probes, settings.cycles, alerts);

    const background = await startBackground(gateway.mqttPort, backgroundIds, settings.backgroundRate);
    await sleep(2_000);
    const before = await gateway.sample();
    const loaded = await gatewayCycles(probes, settings.cycles, alerts);
    const after = await gateway.sample();
    await background.stop();
    // what the gateway accepted while the probe ran (background plus the probe's own readings)
    const ingested = (after.count - before.count) / (Number(after.atNs - before.atNs) / 1e9);
    return { gatewayIdle: idle.open, gatewayLoaded: loaded.open, resolveLoaded: loaded.resolved, backgroundAchievedRate: ingested };
  } finally {
    await sse.close();
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await gateway.stop();
  }
}

/** The transport floor: publish → delivery to a subscriber through bare aedes, same background load. */
async function measureAedes(settings: LatencySettings): Promise<LatencySample> {
  const aedes: NodeBroker = await startAedesBroker();
  const clients: MqttClient[] = [];
  try {
    const url = `mqtt://127.0.0.1:${aedes.mqttPort}`;
    const probeId = shelfId(settings.backgroundShelves + 1);
    const topic = topicOf('shelf', probeId, 'weight');
    const publisher = await mqtt.connectAsync(url, { clientId: probeId, reconnectPeriod: 0 });
    const subscriber = await mqtt.connectAsync(url, { clientId: 'bench-probe-subscriber', reconnectPeriod: 0 });
    clients.push(publisher, subscriber);
    const deliveries = new Waiters<number>();
    subscriber.on('message', (_topic, payload) => deliveries.deliver(payload.toString(), performance.now()));
    await subscriber.subscribeAsync(topic, { qos: 1 });
    const backgroundIds = Array.from({ length: settings.backgroundShelves }, (_, i) => shelfId(i + 1));
    const background = await startBackground(aedes.mqttPort, backgroundIds, settings.backgroundRate);
    await sleep(2_000);
    const sample: LatencySample = { values: [], timeouts: 0 };
    for (let i = 0; i < settings.cycles + 20; i++) {
      const payload = JSON.stringify({ facing: (i % settings.facings) + 1, weightG: i, ts: Date.now() });
      const delivered = deliveries.wait(payload, WAIT_TIMEOUT_MS);
      const t0 = performance.now();
      publisher.publish(topic, payload, { qos: 1 });
      const at = await delivered;
      if (i >= 20) {
        if (at === undefined) sample.timeouts++;
        else sample.values.push(at - t0);
      }
      await sleep(5 + Math.random() * 10);
    }
    await background.stop();
    return sample;
  } finally {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await aedes.stop();
  }
}

export async function runAlertLatency(settings: LatencySettings, progress: (line: string) => void): Promise<LatencyResult> {
  const dataDir = await makeTempDir('latency');
  try {
    const gateway = await measureGateway(settings, dataDir);
    const describe = (s: LatencySample) =>
      `p50 ${percentile(s.values, 50).toFixed(2)} ms, p99 ${percentile(s.values, 99).toFixed(2)} ms, timeouts ${s.timeouts}`;
    progress(`drop→alert gateway idle:   ${describe(gateway.gatewayIdle)}`);
    progress(
      `drop→alert gateway loaded: ${describe(gateway.gatewayLoaded)} (background ${Math.round(gateway.backgroundAchievedRate)} msg/s)`,
    );
    const aedesLoaded = await measureAedes(settings);
    progress(`publish→deliver bare aedes loaded: ${describe(aedesLoaded)}`);
    return { ...gateway, aedesLoaded };
  } finally {
    await removeTempDir(dataDir);
  }
}
