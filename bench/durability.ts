/**
 * Benchmark 8 (issue 21 §1, "durable before acknowledged") — what waiting for the commit costs where the gateway
 * acknowledges. The code path that answered before the commit is gone, so each figure has an in-run baseline on the
 * same gateway, under the same load, that differs only by the commit:
 *
 *  8a/8b alert ack over HTTP under `backgroundRate` msg/s of steady shelf telemetry: POST /api/alerts/:id/ack (answered
 *        once the change is committed) vs GET /api/alerts/:id (same HTTP, token and routing path, no commit), p50/p99.
 *        The alerts are kiosk assistance alerts: a probe kiosk sends `assist-requested` (QoS 1), the alert is acked,
 *        then resolved, and the kiosk asks again (one active assist alert per kiosk).
 *  8c    kiosk QoS 1 events/s end to end (publish → PUBACK counted at the kiosks), `kiosks` raw MQTT connections with
 *        `window` events unacknowledged each: `assist-requested` (its PUBACK waits for the alert's commit — the ack gate of
 *        the alerts room) vs `item-scanned` for a sku outside the planogram (no alert, no gate, no stock change).
 *        The gated side runs two ways: with a resolver that resolves the kiosks' alerts over HTTP as fast as it can, so
 *        new alerts keep opening and the commits carry rows ("opening"), and without it ("dedup": after its first event a
 *        kiosk's alert is active, the event opens nothing, yet its PUBACK still waits for a commit turn).
 *  8d    a price campaign for `labels` labels: POST /api/campaigns → 201 (which now waits for `durable()`), and
 *        `create()` + `durable()` in process, vs `create()` alone — what the answer waited for before — plus the longest
 *        event-loop hold while the campaign is created and committed.
 *
 * 8a–8c run against one gateway in a forked broker process (HQ relay disabled, as in production without HQ); the
 * background telemetry comes from a forked load worker; the kiosk flood is raw MQTT (mqtt-wire.ts) from this process.
 * 8d runs a gateway in this process (the baseline calls the campaign service directly), no access points connected.
 */
import { loadavg } from 'node:os';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { stringify } from 'yaml';
import type { Alert } from '../edge/alerts/alerts.js';
import { loadConfig } from '../edge/config/load-config.js';
import { buildGateway, type StoreGateway } from '../edge/main.js';
import { startGatewayBroker, type NodeBroker } from './brokers.js';
import { BENCH_API_TOKEN, STEADY_UNITS, benchPlanogram, secretOf, shelfId, topicOf, writePlanogram } from './fixture.js';
import { ChildHandle, makeTempDir, removeTempDir } from './ipc.js';
import type { PublisherSpec } from './load-worker.js';
import { PACKET_PUBACK, connectWire, encodePublish, type WireConnection } from './mqtt-wire.js';
import { cpuSecondsOf } from './procfs.js';
import { median, percentile, sleep } from './stats.js';

export type DurabilitySettings = {
  ack: { cycles: number; warmupCycles: number; probeKiosks: number; backgroundShelves: number; facings: number; backgroundRate: number };
  kiosk: { kiosks: number; window: number; runs: number; warmupMs: number; measureMs: number; resolverConcurrency: number };
  campaign: { labels: number; rounds: number };
};

export const DURABILITY_BENCH_DEFAULT: DurabilitySettings = {
  ack: { cycles: 300, warmupCycles: 20, probeKiosks: 4, backgroundShelves: 40, facings: 8, backgroundRate: 10_000 },
  kiosk: { kiosks: 200, window: 8, runs: 3, warmupMs: 1_500, measureMs: 3_000, resolverConcurrency: 4 },
  campaign: { labels: 50_000, rounds: 3 },
};
export const DURABILITY_BENCH_SMOKE: DurabilitySettings = {
  ack: { cycles: 40, warmupCycles: 5, probeKiosks: 2, backgroundShelves: 40, facings: 8, backgroundRate: 10_000 },
  kiosk: { kiosks: 50, window: 8, runs: 1, warmupMs: 500, measureMs: 1_000, resolverConcurrency: 4 },
  campaign: { labels: 2_000, rounds: 1 },
};

/** Load averages (1, 5, 15 min) when a part began and ended: the machine is shared, this says how busy it was. */
export type LoadSpan = { before: number[]; after: number[] };

export type AckResult = {
  ackMs: number[];
  getMs: number[];
  resolveMs: number[];
  /** an HTTP answer that was not 200 (the cycle is not counted) */
  failures: number;
  /** what the gateway accepted per second while the timed cycles ran (background plus the probes) */
  backgroundAchievedRate: number;
  load: LoadSpan;
};

export type KioskVariant = 'plain' | 'dedup' | 'opening';
export type KioskRun = {
  variant: KioskVariant;
  /** PUBACKs received per second over the window */
  eventsPerS: number;
  /** publish → PUBACK of the events acknowledged in the window */
  pubackP50Ms: number;
  pubackP99Ms: number;
  /** alerts opened per second and commits (write-behind flushes) per second in the window, read from the gateway's metrics */
  alertsOpenedPerS: number;
  commitsPerS: number;
  /** alerts resolved per second by the resolver over HTTP (opening only) */
  resolvedPerS: number;
  brokerCpuPercent: number;
  /** this process: the raw kiosk connections (and the resolver) */
  generatorCpuPercent: number;
  /** connections the gateway closed, messages it rate-limited: both must be 0 or the figure is off */
  disconnected: number;
  rateLimited: number;
};
export type KioskResult = { runs: KioskRun[]; median: Record<KioskVariant, number>; load: LoadSpan };

export type CampaignRound = {
  /** the route's campaigns.create() call alone: what POST /api/campaigns waited for before it waited for the commit */
  createMs: number;
  /** POST /api/campaigns → 201 */
  postMs: number;
  /** the longest gap between 1 ms timer ticks while the request was answered */
  holdMs: number;
  /** a commit asked for PROBE_AFTER_MS after the route's create() (an alert opening): how long it waited */
  probeCommitMs: number;
};
export type CampaignResult = {
  labels: number;
  labelsPerFacing: number;
  skus: number;
  rounds: CampaignRound[];
  median: Omit<CampaignRound, 'holdMs'>;
  maxHoldMs: number;
  /** cancelling the last campaign until committed, then stopping the gateway */
  cancelMs: number;
  stopMs: number;
  load: LoadSpan;
};

export type DurabilityResult = { ack: AckResult; kiosk: KioskResult; campaign: CampaignResult };

const NO_ALERT_SKU = '4999999999999';
/** when, after the route's create() returned (and asked for its commit), the probe asks for a commit of its own */
const PROBE_AFTER_MS = 20;

const loadNow = () => loadavg().map((v) => Math.round(v * 100) / 100);

export async function runDurability(settings: DurabilitySettings, progress: Progress): Promise<DurabilityResult> {
  const dataDir = await makeTempDir('durability');
  try {
    const { ack, kiosk } = await measureGatewayAcks(settings, dataDir, progress);
    const campaign = await measureCampaignCreate(settings.campaign, join(dataDir, 'campaign'), progress);
    return { ack, kiosk, campaign };
  } finally {
    await removeTempDir(dataDir);
  }
}

// ---- HTTP against the gateway ----------------------------------------------------------------------------------------

class GatewayHttp {
  constructor(private readonly base: string) {}

  /** Resolves with the status and the parsed body; the clock is the caller's. */
  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: { authorization: `Bearer ${BENCH_API_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  async timed(method: 'GET' | 'POST', path: string, body?: unknown): Promise<number | undefined> {
    const t0 = performance.now();
    const { status } = await this.request(method, path, body);
    const ms = performance.now() - t0;
    return status === 200 || status === 201 ? ms : undefined;
  }

  async activeKioskAlerts(): Promise<Alert[]> {
    const { body } = await this.request<{ alerts: Alert[] }>('GET', '/api/alerts?state=active&kind=kiosk-assist&limit=1000');
    return body.alerts;
  }

  /** A counter (or a histogram's _count) summed over its labels, from the Prometheus text of GET /metrics. */
  async counter(name: string): Promise<number> {
    const response = await fetch(`${this.base}/metrics`, { headers: { authorization: `Bearer ${BENCH_API_TOKEN}` } });
    const text = await response.text();
    let sum = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith(name)) continue;
      const rest = line.slice(name.length);
      if (rest.startsWith(' ') || rest.startsWith('{')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return sum;
  }
}

// ---- 8a–8c: one gateway in a broker process --------------------------------------------------------------------------

function kioskId(index: number): string {
  return `kiosk-${String(index).padStart(4, '0')}`;
}

type Progress = (line: string) => void;

async function measureGatewayAcks(
  settings: DurabilitySettings,
  dataDir: string,
  progress: Progress,
): Promise<{ ack: AckResult; kiosk: KioskResult }> {
  const backgroundIds = Array.from({ length: settings.ack.backgroundShelves }, (_, i) => shelfId(i + 1));
  const probeIds = Array.from({ length: settings.ack.probeKiosks }, (_, i) => kioskId(i + 1));
  const floodIds = Array.from({ length: settings.kiosk.kiosks }, (_, i) => kioskId(settings.ack.probeKiosks + i + 1));
  const planogramFile = join(dataDir, 'planogram.yaml');
  await writePlanogram(planogramFile, benchPlanogram(backgroundIds, settings.ack.facings));
  const gateway = await startGatewayBroker({ dataDir: join(dataDir, 'gateway'), planogramFile });
  try {
    await gateway.provision('shelf', backgroundIds);
    await gateway.provision('kiosk', [...probeIds, ...floodIds]);
    const http = new GatewayHttp(`http://127.0.0.1:${gateway.httpPort}`);
    const kiosk = await measureKioskFlood(gateway, http, floodIds, settings.kiosk, progress);
    const ack = await measureAck(gateway, http, backgroundIds, probeIds, settings.ack, progress);
    return { ack, kiosk };
  } finally {
    await gateway.stop();
  }
}

async function startBackground(
  port: number,
  ids: readonly string[],
  ratePerSec: number,
  facings: number,
): Promise<{ stop(): Promise<void> }> {
  const worker = ChildHandle.fork('load-worker');
  const publishers: PublisherSpec[] = ids.map((id) => ({
    clientId: id,
    username: id,
    password: secretOf(id),
    topic: topicOf('shelf', id, 'weight'),
  }));
  await worker.request('connectPublishers', { port, publishers, facings, units: STEADY_UNITS });
  await worker.request('paced', { ratePerSec });
  return {
    async stop() {
      await worker.request('halt');
      await worker.close();
    },
  };
}

async function measureAck(
  gateway: NodeBroker,
  http: GatewayHttp,
  backgroundIds: readonly string[],
  probeIds: readonly string[],
  settings: DurabilitySettings['ack'],
  progress: Progress,
): Promise<AckResult> {
  const clients: MqttClient[] = [];
  const load: LoadSpan = { before: loadNow(), after: [] };
  const result: AckResult = { ackMs: [], getMs: [], resolveMs: [], failures: 0, backgroundAchievedRate: 0, load };
  try {
    for (const id of probeIds) {
      const options = { clientId: id, username: id, password: secretOf(id), reconnectPeriod: 0, keepalive: 60 };
      clients.push(await mqtt.connectAsync(`mqtt://127.0.0.1:${gateway.mqttPort}`, options));
    }
    // what the flood left open: every probe starts without an active assist alert
    for (const alert of await http.activeKioskAlerts()) await http.request('POST', `/api/alerts/${alert.id}/resolve`, {});
    const background = await startBackground(gateway.mqttPort, backgroundIds, settings.backgroundRate, settings.facings);
    try {
      await sleep(2_000);
      await ackCycles(http, clients, probeIds, settings.warmupCycles, { ackMs: [], getMs: [], resolveMs: [], failures: 0 });
      const before = await gateway.sample();
      await ackCycles(http, clients, probeIds, settings.cycles, result);
      const after = await gateway.sample();
      result.backgroundAchievedRate = (after.count - before.count) / (Number(after.atNs - before.atNs) / 1e9);
    } finally {
      await background.stop();
    }
    load.after = loadNow();
    const d = (values: number[]) => `p50 ${percentile(values, 50).toFixed(2)} / p99 ${percentile(values, 99).toFixed(2)} ms`;
    progress(
      `alert ack (commit) ${d(result.ackMs)}; GET alert (no commit) ${d(result.getMs)}; resolve ${d(result.resolveMs)} ` +
        `(${Math.round(result.backgroundAchievedRate)} msg/s background)`,
    );
    return result;
  } finally {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
  }
}

type AckSamples = Pick<AckResult, 'ackMs' | 'getMs' | 'resolveMs' | 'failures'>;

/** Assist → (GET and ack, in alternating order) → resolve, over the probe kiosks in turn. */
async function ackCycles(
  http: GatewayHttp,
  clients: readonly MqttClient[],
  probeIds: readonly string[],
  cycles: number,
  into: AckSamples,
): Promise<void> {
  for (let i = 0; i < cycles; i++) {
    const k = i % clients.length;
    const id = probeIds[k] as string;
    // QoS 1: the PUBACK comes once the alert is committed, so the alert is there when this resolves
    const assist = JSON.stringify({ type: 'assist-requested', reason: 'bench', ts: Date.now() });
    await (clients[k] as MqttClient).publishAsync(topicOf('kiosk', id, 'event'), assist, { qos: 1 });
    const alert = (await http.activeKioskAlerts()).find((a) => a.deviceId === id && a.state === 'open');
    if (!alert) {
      into.failures++;
      continue;
    }
    const get = () => http.timed('GET', `/api/alerts/${alert.id}`);
    const ack = () => http.timed('POST', `/api/alerts/${alert.id}/ack`, {});
    let getMs: number | undefined;
    let ackMs: number | undefined;
    if (i % 2 === 0) {
      getMs = await get();
      ackMs = await ack();
    } else {
      ackMs = await ack();
      getMs = await get();
    }
    const resolveMs = await http.timed('POST', `/api/alerts/${alert.id}/resolve`, { note: 'bench' });
    if (getMs === undefined || ackMs === undefined || resolveMs === undefined) into.failures++;
    else {
      into.getMs.push(getMs);
      into.ackMs.push(ackMs);
      into.resolveMs.push(resolveMs);
    }
    // not in lockstep with the background pacer's ticks
    await sleep(5 + Math.random() * 10);
  }
}

// ---- 8c: kiosk flood -------------------------------------------------------------------------------------------------

function kioskPayload(variant: KioskVariant, slot: number): Buffer {
  const ts = Date.now();
  const event =
    variant === 'plain'
      ? { type: 'item-scanned', basketId: `b-${slot}`, sku: NO_ALERT_SKU, qty: 1, ts }
      : { type: 'assist-requested', reason: 'bench', ts };
  return Buffer.from(JSON.stringify(event));
}

/** Raw QoS 1 publishers, `window` unacknowledged each, refilled as PUBACKs arrive; publish → PUBACK timed per packet id. */
class KioskFlood {
  private connections: { connection: WireConnection; closed: boolean }[] = [];
  private running = false;
  acked = 0;
  /** publish → PUBACK of acks counted while `recording` */
  latencies: number[] = [];
  recording = false;

  async connect(port: number, ids: readonly string[]): Promise<void> {
    const batch = 25;
    for (let i = 0; i < ids.length; i += batch) {
      const connected = await Promise.all(
        ids.slice(i, i + batch).map(async (id) => {
          const connection = await connectWire(port, { clientId: id, username: id, password: secretOf(id) }, { keepaliveSec: 60 });
          const entry = { connection, closed: false };
          connection.socket.on('close', () => (entry.closed = true));
          connection.socket.on('error', () => undefined);
          return entry;
        }),
      );
      this.connections.push(...connected);
    }
  }

  start(ids: readonly string[], variant: KioskVariant, window: number): void {
    this.running = true;
    this.connections.forEach((entry, c) => {
      const topic = topicOf('kiosk', ids[c] as string, 'event');
      const slots = Array.from({ length: window }, (_, i) => encodePublish(topic, kioskPayload(variant, i), 1));
      const sentAt = new Float64Array(65_536);
      const socket = entry.connection.socket;
      let seq = 0;
      const sendNext = () => {
        const slot = slots[seq % window] as { frame: Buffer; idOffset: number };
        const packetId = (seq % 65_535) + 1;
        slot.frame.writeUInt16BE(packetId, slot.idOffset);
        seq++;
        sentAt[packetId] = performance.now();
        socket.write(slot.frame);
      };
      let owed = 0;
      let scheduled = false;
      const refill = () => {
        scheduled = false;
        if (!this.running || entry.closed) return;
        socket.cork();
        for (; owed > 0; owed--) sendNext();
        socket.uncork();
      };
      entry.connection.onPacket((type, body) => {
        if (type !== PACKET_PUBACK) return;
        this.acked++;
        // bounded: a window of a few seconds at tens of thousands per second
        if (this.recording && this.latencies.length < 1_000_000) {
          this.latencies.push(performance.now() - (sentAt[body.readUInt16BE(0)] as number));
        }
        owed++;
        if (!scheduled) {
          scheduled = true;
          queueMicrotask(refill);
        }
      });
      socket.cork();
      for (let i = 0; i < window; i++) sendNext();
      socket.uncork();
    });
  }

  get disconnected(): number {
    return this.connections.filter((entry) => entry.closed).length;
  }

  close(): void {
    this.running = false;
    for (const { connection } of this.connections) connection.socket.destroy();
    this.connections = [];
  }
}

/** Resolves the active kiosk assist alerts over HTTP, as fast as `concurrency` requests allow, until stopped. */
function startResolver(http: GatewayHttp, concurrency: number): { stop: () => Promise<void>; resolved: () => number } {
  let running = true;
  let resolved = 0;
  const done = (async () => {
    while (running) {
      const open = (await http.activeKioskAlerts()).filter((alert) => alert.state !== 'resolved');
      if (open.length === 0) {
        await sleep(5);
        continue;
      }
      let next = 0;
      const lane = async () => {
        while (running && next < open.length) {
          const alert = open[next++] as Alert;
          const { status } = await http.request('POST', `/api/alerts/${alert.id}/resolve`, { note: 'bench' });
          if (status === 200) resolved++;
        }
      };
      await Promise.all(Array.from({ length: concurrency }, lane));
    }
  })();
  return {
    resolved: () => resolved,
    async stop() {
      running = false;
      await done;
    },
  };
}

async function kioskRun(
  gateway: NodeBroker,
  http: GatewayHttp,
  ids: readonly string[],
  variant: KioskVariant,
  settings: DurabilitySettings['kiosk'],
): Promise<KioskRun> {
  const flood = new KioskFlood();
  await flood.connect(gateway.mqttPort, ids);
  const resolver = variant === 'opening' ? startResolver(http, settings.resolverConcurrency) : undefined;
  try {
    flood.start(ids, variant, settings.window);
    await sleep(settings.warmupMs);
    const counters = async () => ({
      opened: await http.counter('smartstore_alerts_opened_total'),
      commits: await http.counter('smartstore_storage_flush_seconds_count'),
      rateLimited: await http.counter('smartstore_mqtt_messages_rate_limited_total'),
    });
    const first = { ...(await counters()), acked: flood.acked, resolved: resolver?.resolved() ?? 0, at: performance.now() };
    const cpu0 = { broker: gateway.cpuSeconds(), self: cpuSecondsOf('self') };
    flood.recording = true;
    await sleep(settings.measureMs);
    flood.recording = false;
    const last = { acked: flood.acked, resolved: resolver?.resolved() ?? 0, at: performance.now() };
    const cpu1 = { broker: gateway.cpuSeconds(), self: cpuSecondsOf('self') };
    const lastCounters = await counters();
    const seconds = (last.at - first.at) / 1000;
    return {
      variant,
      eventsPerS: (last.acked - first.acked) / seconds,
      pubackP50Ms: percentile(flood.latencies, 50),
      pubackP99Ms: percentile(flood.latencies, 99),
      alertsOpenedPerS: (lastCounters.opened - first.opened) / seconds,
      commitsPerS: (lastCounters.commits - first.commits) / seconds,
      resolvedPerS: (last.resolved - first.resolved) / seconds,
      brokerCpuPercent: ((cpu1.broker - cpu0.broker) / seconds) * 100,
      generatorCpuPercent: ((cpu1.self - cpu0.self) / seconds) * 100,
      disconnected: flood.disconnected,
      rateLimited: lastCounters.rateLimited - first.rateLimited,
    };
  } finally {
    flood.close();
    await resolver?.stop();
    await gateway.settle();
  }
}

async function measureKioskFlood(
  gateway: NodeBroker,
  http: GatewayHttp,
  ids: readonly string[],
  settings: DurabilitySettings['kiosk'],
  progress: Progress,
): Promise<KioskResult> {
  const load: LoadSpan = { before: loadNow(), after: [] };
  const runs: KioskRun[] = [];
  const order: KioskVariant[] = ['plain', 'opening', 'dedup'];
  for (let run = 0; run < settings.runs; run++) {
    // rotated each run, so that machine noise does not always hit the same variant
    for (let v = 0; v < order.length; v++) {
      const variant = order[(v + run) % order.length] as KioskVariant;
      const r = await kioskRun(gateway, http, ids, variant, settings);
      runs.push(r);
      progress(
        `kiosk QoS 1 ${variant}: ${Math.round(r.eventsPerS)} events/s, ` +
          `PUBACK p50 ${r.pubackP50Ms.toFixed(1)} / p99 ${r.pubackP99Ms.toFixed(1)} ms, ` +
          `${Math.round(r.alertsOpenedPerS)} alerts opened/s, ${Math.round(r.commitsPerS)} commits/s, ` +
          `gateway CPU ${r.brokerCpuPercent.toFixed(0)} %` +
          (r.disconnected + r.rateLimited > 0 ? ` — WARNING ${r.disconnected} disconnected, ${r.rateLimited} rate-limited` : ''),
      );
    }
  }
  load.after = loadNow();
  const medianOf = (variant: KioskVariant) => median(runs.filter((r) => r.variant === variant).map((r) => r.eventsPerS));
  return { runs, median: { plain: medianOf('plain'), dedup: medianOf('dedup'), opening: medianOf('opening') }, load };
}

// ---- 8d: campaign create for many labels -----------------------------------------------------------------------------

const LABELS_PER_FACING = 50;
const FACINGS_PER_SHELF = 50;
const campaignSku = (facingIndex: number) => `40${String(facingIndex).padStart(11, '0')}`;

async function campaignGatewayConfig(dir: string, labels: number) {
  const facings = Math.ceil(labels / LABELS_PER_FACING);
  const shelves = Math.ceil(facings / FACINGS_PER_SHELF);
  const planogram = {
    products: Array.from({ length: facings }, (_, i) => ({ sku: campaignSku(i), name: `Product ${i}`, unitWeightG: 500, priceCents: 100 })),
    shelves: Array.from({ length: shelves }, (_, s) => ({
      id: `shelf-${s}`,
      facings: Array.from({ length: Math.min(FACINGS_PER_SHELF, facings - s * FACINGS_PER_SHELF) }, (_, f) => ({
        facing: f + 1,
        sku: campaignSku(s * FACINGS_PER_SHELF + f),
        capacityUnits: 10,
        lowStockUnits: 2,
        restockUnits: 5,
      })),
    })),
    labels: Array.from({ length: labels }, (_, i) => {
      const facing = Math.floor(i / LABELS_PER_FACING);
      const shelf = `shelf-${Math.floor(facing / FACINGS_PER_SHELF)}`;
      return { label: `esl-${String(i).padStart(6, '0')}`, shelfId: shelf, facing: (facing % FACINGS_PER_SHELF) + 1 };
    }),
  };
  const planogramFile = join(dir, 'planogram.yaml');
  await writeFile(planogramFile, stringify(planogram));
  const config = await loadConfig({
    env: {},
    overrides: {
      storeId: 'bench-store',
      dataDir: join(dir, 'gateway'),
      log: { level: 'silent', pretty: false },
      mqtt: { host: '127.0.0.1', port: 0 },
      http: { host: '127.0.0.1', port: 0, apiToken: BENCH_API_TOKEN },
      planogram: { file: planogramFile },
      security: { scryptCost: 1024 },
      labels: { drivers: { maxLabels: Math.max(100_000, labels) } },
    },
  });
  return { config, skus: facings };
}

/** The longest gap between the ticks of a 1 ms interval while it runs: how long the event loop was held. */
function holdWatcher(): { stop: () => number } {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(longest, performance.now() - last);
    },
  };
}

async function measureCampaignCreate(settings: DurabilitySettings['campaign'], dir: string, progress: Progress): Promise<CampaignResult> {
  await mkdir(dir, { recursive: true });
  const { config, skus } = await campaignGatewayConfig(dir, settings.labels);
  const log = pino({ level: process.env.BENCH_LOG_LEVEL ?? 'silent' }, pino.destination(2));
  const gateway: StoreGateway = buildGateway(config, { log });
  const load: LoadSpan = { before: loadNow(), after: [] };
  let stopped = false;
  await gateway.gateway.start();
  try {
    const http = new GatewayHttp(`http://127.0.0.1:${gateway.http.port}`);
    const campaigns = gateway.campaigns;
    const writer = gateway.storage.writer;
    // the route's own create() call, timed from the outside: what the 201 waited for before it waited for the commit
    const createMs: number[] = [];
    let onCreated: (() => void) | undefined;
    const originalCreate = campaigns.create.bind(campaigns);
    campaigns.create = (request) => {
      const began = performance.now();
      try {
        return originalCreate(request);
      } finally {
        createMs.push(performance.now() - began);
        onCreated?.();
      }
    };
    const pricesFor = (base: number, count: number) =>
      Array.from({ length: count }, (_, i) => ({ sku: campaignSku(i), priceCents: base + i }));
    const post = async (id: string, prices: { sku: string; priceCents: number }[]) => {
      const { status, body } = await http.request<{ total?: number; message?: string }>('POST', '/api/campaigns', { id, prices });
      if (status !== 201) throw new Error(`durability bench: POST /api/campaigns answered ${status}: ${body.message ?? ''}`);
      return body.total ?? 0;
    };
    // each campaign is cancelled (and committed) before the next, so every round writes one new campaign's labels
    const cancel = async (id: string) => {
      campaigns.cancel(id, 'bench');
      await campaigns.durable();
    };
    // a warm-up (JIT, the route, first statements), not counted: one sku
    await post('bench-warmup', pricesFor(50, 1));
    await cancel('bench-warmup');
    const rounds: CampaignRound[] = [];
    for (let round = 0; round < settings.rounds; round++) {
      if (round > 0) await cancel(`bench-${round - 1}`);
      await sleep(200);
      const id = `bench-${round}`;
      const watch = holdWatcher();
      const created = new Promise<void>((resolve) => (onCreated = resolve));
      const t0 = performance.now();
      const answered = post(id, pricesFor(100 + round * 1_000, skus));
      // an alert opening while the campaign commits: what a kiosk's PUBACK or a staff ack asked for now waits for
      await created;
      onCreated = undefined;
      await sleep(PROBE_AFTER_MS);
      const probeAlert = gateway.alerts.service.raise({
        kind: 'kiosk-assist',
        key: `kiosk-assist:bench-probe-${round}`,
        severity: 'critical',
        title: 'bench probe',
        deviceId: 'bench-probe',
      });
      const p0 = performance.now();
      const probeCommitMs = await writer.commit().then(() => performance.now() - p0);
      const total = await answered;
      const postMs = performance.now() - t0;
      const holdMs = watch.stop();
      gateway.alerts.service.resolve(probeAlert.alert.id, 'bench');
      if (total !== settings.labels) throw new Error(`durability bench: campaign ${id} has ${total} labels, expected ${settings.labels}`);
      const round_ = { createMs: createMs.at(-1) ?? Number.NaN, postMs, holdMs, probeCommitMs };
      rounds.push(round_);
      progress(
        `campaign ${settings.labels} labels: POST → 201 ${postMs.toFixed(0)} ms, its create() ${round_.createMs.toFixed(0)} ms; ` +
          `event loop held up to ${holdMs.toFixed(0)} ms; ` +
          `an alert commit asked for ${PROBE_AFTER_MS} ms after its create() waited ${probeCommitMs.toFixed(0)} ms`,
      );
    }
    load.after = loadNow();
    // the last campaign is cancelled too (a gateway stopped with a 50,000-label campaign running and no access point
    // took ~45 s here); both timed for the notes
    const c0 = performance.now();
    await cancel(`bench-${settings.rounds - 1}`);
    const cancelMs = performance.now() - c0;
    const s0 = performance.now();
    stopped = true;
    await gateway.gateway.stop();
    const stopMs = performance.now() - s0;
    const med = (key: keyof CampaignRound) => median(rounds.map((r) => r[key]));
    return {
      labels: settings.labels,
      labelsPerFacing: LABELS_PER_FACING,
      skus,
      rounds,
      median: { createMs: med('createMs'), postMs: med('postMs'), probeCommitMs: med('probeCommitMs') },
      maxHoldMs: Math.max(...rounds.map((r) => r.holdMs)),
      cancelMs,
      stopMs,
      load,
    };
  } finally {
    if (!stopped) await gateway.gateway.stop().catch(() => undefined);
  }
}
