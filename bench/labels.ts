/**
 * Benchmark (issue 14) — a price campaign to `labels` simulated labels behind `accessPoints` simulated MQTT access
 * points (devices/mqtt-ap-simulator.ts, every label awake, no ack lost), confirmed end to end, in one process:
 *  - campaign: the full gateway (`buildGateway`, real aedes + SQLite), its campaign service and AP drivers; timed from
 *    `campaigns.create()` to the `campaign.progress` event that says it finished (every label confirmed);
 *  - baseline, same run, same process layout: bare aedes (`Aedes.createBroker()` + `net.createServer`, no hooks) and
 *    as many mqtt.js connections as access points, pushing `labels` QoS 1 PUBLISH + PUBACK round trips (each
 *    connection keeps as many unacknowledged as an AP driver does: `maxInFlight`);
 *  - RSS: the process's resident memory after the campaign minus before it (after a GC when --expose-gc), per 1,000
 *    labels tracked;
 *  - resume: a second campaign is stopped (gateway stopped) when half its labels confirmed; a new gateway on the same
 *    data dir is timed from `start()` until that campaign is back, running, with the confirmed count it had.
 * The campaign service's send rate (`sendsPerSecondPerDriver`, 200/s per driver, not configurable from the config) and
 * the AP driver's `apMaxCommandsPerSecond` are production policies that bound the campaign from below: the floor they
 * imply is reported next to the ratio so a reader can tell overhead from policy.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { MqttApSimulator } from '../devices/mqtt-ap-simulator.js';
import { seededRandom } from '../devices/random.js';
import { loadConfig } from '../edge/config/load-config.js';
import type { GatewayConfig } from '../edge/config/gateway-config.js';
import type { CampaignProgress } from '../edge/labels/campaign-service.js';
import { DEFAULT_CAMPAIGN_RULES, DEFAULT_CAMPAIGN_SERVICE_OPTIONS } from '../edge/labels/campaign-service.js';
import { MQTT_AP_DEFAULTS } from '../edge/labels/mqtt-ap-driver.js';
import { buildGateway, type StoreGateway } from '../edge/main.js';
import { makeTempDir, removeTempDir } from './ipc.js';
import { sleep } from './stats.js';

const STORE = 'bench-store';
const LABELS_PER_FACING = 50;
const FACINGS_PER_SHELF = 50;

export type LabelsBenchSettings = {
  /** labels in the campaign, e.g. 50,000 */
  labels: number;
  /** simulated MQTT access points the labels are spread over, e.g. 20 */
  accessPoints: number;
  /** the AP driver's per-AP command rate (labels.drivers.apMaxCommandsPerSecond; production default 200) */
  apCommandsPerSecond: number;
  /** give up on a campaign after this long */
  timeoutMs: number;
  /** wait for the finished campaign's ack timers to come due (ackTimeoutMs, 30 s) and time the ticks meanwhile */
  timerWindow: boolean;
};

export const LABELS_BENCH_DEFAULT: LabelsBenchSettings = { labels: 50_000, accessPoints: 20, apCommandsPerSecond: 200, timeoutMs: 600_000, timerWindow: true };
export const LABELS_BENCH_SMOKE: LabelsBenchSettings = { labels: 2_000, accessPoints: 4, apCommandsPerSecond: 200, timeoutMs: 120_000, timerWindow: false };

export type TickFigures = { count: number; maxMs: number; totalMs: number; timersAtEnd: number };

export type LabelsBenchResult = {
  labels: number;
  accessPoints: number;
  campaign: { elapsedMs: number; confirmed: number; failed: number; labelsPerS: number };
  baseline: { elapsedMs: number; roundTrips: number; perS: number; inFlightPerConnection: number };
  ratio: number;
  /** what the send-rate policies alone allow, ms: labels / (APs × the lower of the two per-driver rates), less the one-second burst */
  rateFloorMs: number;
  /** process memory after the campaign minus before it (after a GC), per 1,000 labels; js = heap used + external */
  memory: { rssBeforeBytes: number; rssAfterBytes: number; rssPer1000Labels: number; jsPer1000Labels: number };
  /** the campaign service's tick (synchronous part) while the campaign ran */
  campaignTicks: TickFigures;
  /** the same while the finished campaign's ack timers came due (null: not measured) */
  timerTicks: (TickFigures & { windowMs: number }) | null;
  resume: { confirmedBefore: number; startMs: number; resumedMs: number; confirmedAfter: number };
};

export async function runLabelsBench(settings: LabelsBenchSettings, progress: (line: string) => void = () => undefined): Promise<LabelsBenchResult> {
  const inFlight = MQTT_AP_DEFAULTS.maxInFlight;
  const baseline = await runBaseline(settings.labels, settings.accessPoints, inFlight);
  progress(`labels baseline: ${settings.labels} QoS 1 round trips over ${settings.accessPoints} connections through bare aedes in ${baseline.elapsedMs.toFixed(0)} ms`);

  const dir = await makeTempDir('labels');
  const log = pino({ level: 'silent' });
  const aps: MqttApSimulator[] = [];
  let gateway: StoreGateway | undefined;
  try {
    const config = await benchConfig(dir, settings);
    gateway = buildGateway(config, { log });
    await gateway.gateway.start();
    const labelsOf = labelIdsByAp(settings);
    await startAccessPoints(gateway, labelsOf, aps, log);
    progress(`labels: ${settings.accessPoints} access points up, ${settings.labels} labels checked in`);

    // the campaign service's tick, timed from the outside: the interval calls the instance's `tick`
    let ticks = { count: 0, maxMs: 0, totalMs: 0, timersAtEnd: 0 };
    const campaigns = gateway.campaigns;
    const originalTick = campaigns.tick.bind(campaigns);
    campaigns.tick = async () => {
      const began = performance.now();
      const done = originalTick();
      const syncMs = performance.now() - began; // the scan and the sends run synchronously; the flush is awaited after
      ticks.count++;
      ticks.totalMs += syncMs;
      ticks.maxMs = Math.max(ticks.maxMs, syncMs);
      await done;
    };

    const memoryBefore = await memoryAfterGc();
    const prices = pricesFor(settings, 100);
    const started = performance.now();
    const finished = campaignFinished(gateway, 'bench-1', settings.timeoutMs);
    campaigns.create({ id: 'bench-1', prices, createdBy: 'bench' });
    const end = await finished;
    const elapsedMs = performance.now() - started;
    const timersOf = () => Number(campaigns.health().timers);
    ticks.timersAtEnd = timersOf();
    const campaignTicks = ticks;
    const memoryAfter = await memoryAfterGc();
    progress(`labels campaign: ${end.counts.confirmed} confirmed, ${end.counts.failed} failed in ${elapsedMs.toFixed(0)} ms; longest campaign tick ${ticks.maxMs.toFixed(1)} ms`);

    // the confirmed labels' ack timers still come due (the service keeps one per label until it fires): every tick
    // with a due timer scans all of them, so the ticks of that window are what the timer scan costs
    ticks = { count: 0, maxMs: 0, totalMs: 0, timersAtEnd: 0 };
    const windowStarted = performance.now();
    if (settings.timerWindow) {
      await waitFor(() => timersOf() <= settings.labels / 100, DEFAULT_CAMPAIGN_RULES.ackTimeoutMs + elapsedMs + 30_000, 'the ack timers to come due');
      ticks.timersAtEnd = timersOf();
      progress(`labels timer window: ${ticks.count} ticks in ${((performance.now() - windowStarted) / 1000).toFixed(1)} s, longest ${ticks.maxMs.toFixed(1)} ms, ${ticks.totalMs.toFixed(0)} ms in all`);
    }
    const timerTicks = { ...ticks, windowMs: performance.now() - windowStarted };

    // resume: a second campaign, stopped half way
    const half = Math.floor(settings.labels / 2);
    const halfway = campaignReached(gateway, 'bench-2', half, settings.timeoutMs);
    campaigns.create({ id: 'bench-2', prices: pricesFor(settings, 200), createdBy: 'bench' });
    await halfway;
    for (const ap of aps.splice(0)) await ap.stop();
    await gateway.gateway.stop();
    // stop() flushed the board: this is what the next gateway must read back
    const confirmedBefore = campaigns.get('bench-2')?.counts.confirmed ?? 0;
    gateway = buildGateway(config, { log });
    const startBegan = performance.now();
    await gateway.gateway.start();
    const startMs = performance.now() - startBegan;
    const resumedView = gateway.campaigns.get('bench-2');
    const resumedMs = performance.now() - startBegan;
    if (resumedView?.state !== 'running' || resumedView.counts.confirmed !== confirmedBefore) {
      throw new Error(`labels bench: campaign bench-2 after the restart: ${resumedView?.state ?? 'gone'}, ${resumedView?.counts.confirmed} confirmed (${confirmedBefore} before)`);
    }
    progress(`labels resume: ${resumedView.counts.confirmed} of ${resumedView.total} confirmed, back in ${resumedMs.toFixed(0)} ms (gateway start ${startMs.toFixed(0)} ms)`);

    const floorRate = settings.accessPoints * Math.min(DEFAULT_CAMPAIGN_SERVICE_OPTIONS.sendsPerSecondPerDriver, settings.apCommandsPerSecond);
    return {
      labels: settings.labels,
      accessPoints: settings.accessPoints,
      campaign: { elapsedMs, confirmed: end.counts.confirmed, failed: end.counts.failed, labelsPerS: (end.counts.confirmed / elapsedMs) * 1000 },
      baseline: { ...baseline, inFlightPerConnection: inFlight },
      ratio: elapsedMs / baseline.elapsedMs,
      // the campaign's bucket starts with one second of sends
      rateFloorMs: Math.max(0, settings.labels / floorRate - 1) * 1000,
      memory: {
        rssBeforeBytes: memoryBefore.rss,
        rssAfterBytes: memoryAfter.rss,
        rssPer1000Labels: ((memoryAfter.rss - memoryBefore.rss) / settings.labels) * 1000,
        jsPer1000Labels: ((memoryAfter.js - memoryBefore.js) / settings.labels) * 1000,
      },
      campaignTicks,
      timerTicks: settings.timerWindow ? timerTicks : null,
      resume: { confirmedBefore, startMs, resumedMs, confirmedAfter: resumedView.counts.confirmed },
    };
  } finally {
    for (const ap of aps) await ap.stop().catch(() => undefined);
    await gateway?.gateway.stop().catch(() => undefined);
    await removeTempDir(dir);
  }
}

/** `labels` QoS 1 publishes + PUBACKs through bare aedes, spread over `connections`, `inFlight` unacknowledged each. */
async function runBaseline(labels: number, connections: number, inFlight: number): Promise<{ elapsedMs: number; roundTrips: number; perS: number }> {
  const broker = await Aedes.createBroker();
  const server: Server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const clients = await Promise.all(Array.from({ length: connections }, (_, i) => mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: `bench-ap-${i}`, reconnectPeriod: 0 })));
  try {
    // the same shape as an AP command: one label's content, JSON
    const payload = (i: number) => JSON.stringify({ cmdId: `c-${i}`, labelId: `ap-L${i}`, type: 'set-price', sku: '4000000000017', priceCents: 100 + (i % 900), productName: 'Oat milk 1 l' });
    const push = (total: number) =>
      Promise.all(
        clients.map(async (client, c) => {
          const mine = Math.floor(total / connections) + (c < total % connections ? 1 : 0);
          let next = 0;
          const lane = async () => {
            while (next < mine) {
              const i = next++;
              await client.publishAsync(`store/${STORE}/ap/bench-ap-${c}/cmd`, payload(i), { qos: 1 });
            }
          };
          await Promise.all(Array.from({ length: Math.min(inFlight, mine) }, lane));
        }),
      );
    // a warm-up (JIT, first buffers) that is not counted: the gateway side has had its own by then (APs checking in)
    await push(Math.min(labels, 5_000));
    const started = performance.now();
    await push(labels);
    const elapsedMs = performance.now() - started;
    return { elapsedMs, roundTrips: labels, perS: (labels / elapsedMs) * 1000 };
  } finally {
    await Promise.all(clients.map((client) => client.endAsync(true).catch(() => undefined)));
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve) => broker.close(() => resolve()));
  }
}

function labelIdsByAp(settings: LabelsBenchSettings): string[][] {
  const byAp: string[][] = Array.from({ length: settings.accessPoints }, () => []);
  for (let i = 0; i < settings.labels; i++) {
    const ap = i % settings.accessPoints;
    byAp[ap]!.push(`${apId(ap)}-L${String(i).padStart(6, '0')}`);
  }
  return byAp;
}

const apId = (index: number) => `ap-${String(index).padStart(2, '0')}`;
const skuOf = (facingIndex: number) => `40${String(facingIndex).padStart(11, '0')}`;

/** A planogram with one sku per facing, LABELS_PER_FACING labels on each, in label order (so each sku spans the APs). */
async function benchConfig(dir: string, settings: LabelsBenchSettings): Promise<GatewayConfig> {
  const facings = Math.ceil(settings.labels / LABELS_PER_FACING);
  const shelves = Math.ceil(facings / FACINGS_PER_SHELF);
  const products = Array.from({ length: facings }, (_, i) => ({ sku: skuOf(i), name: `Product ${i}`, unitWeightG: 500, priceCents: 100 }));
  const planogram = {
    products,
    shelves: Array.from({ length: shelves }, (_, s) => ({
      id: `shelf-${s}`,
      facings: Array.from({ length: Math.min(FACINGS_PER_SHELF, facings - s * FACINGS_PER_SHELF) }, (_, f) => ({ facing: f + 1, sku: skuOf(s * FACINGS_PER_SHELF + f), capacityUnits: 10, lowStockUnits: 2, restockUnits: 5 })),
    })),
    labels: labelIdsByAp(settings)
      .flatMap((ids) => ids)
      .sort((a, b) => a.slice(-6).localeCompare(b.slice(-6)))
      .map((label, i) => {
        const facing = Math.floor(i / LABELS_PER_FACING);
        return { label, shelfId: `shelf-${Math.floor(facing / FACINGS_PER_SHELF)}`, facing: (facing % FACINGS_PER_SHELF) + 1 };
      }),
  };
  const planogramFile = join(dir, 'planogram.yaml');
  await writeFile(planogramFile, stringify(planogram));
  return loadConfig({
    env: {},
    overrides: {
      storeId: STORE,
      dataDir: join(dir, 'gateway'),
      log: { level: 'silent', pretty: false },
      mqtt: { host: '127.0.0.1', port: 0 },
      http: { host: '127.0.0.1', port: 0 },
      planogram: { file: planogramFile },
      security: { scryptCost: 1024 },
      labels: { drivers: { maxLabels: Math.max(100_000, settings.labels), maxAccessPoints: Math.max(32, settings.accessPoints), apMaxCommandsPerSecond: settings.apCommandsPerSecond } },
    },
  });
}

function pricesFor(settings: LabelsBenchSettings, base: number): Record<string, number> {
  const prices: Record<string, number> = {};
  for (let i = 0; i < Math.ceil(settings.labels / LABELS_PER_FACING); i++) prices[skuOf(i)] = base + i;
  return prices;
}

/** Provisions and connects the APs (every label awake, no ack lost) and waits until their drivers carry every label. */
async function startAccessPoints(gateway: StoreGateway, labelsOf: string[][], aps: MqttApSimulator[], log: pino.Logger): Promise<void> {
  const url = `mqtt://127.0.0.1:${gateway.broker.port}`;
  for (const [index, ids] of labelsOf.entries()) {
    const deviceId = apId(index);
    const secret = await gateway.devices.registry.provision(deviceId, 'ap');
    const ap = new MqttApSimulator({
      brokerUrl: url,
      storeId: STORE,
      deviceId,
      secret,
      logger: log,
      random: seededRandom(index + 1),
      labels: ids.map((labelId) => ({ labelId, priceCents: null })),
      awakeRate: 1,
      ackLossRate: 0,
      // each label reports once now (the driver learns it carries it), not again during the run
      checkInIntervalMs: 3_600_000,
    });
    await ap.start();
    aps.push(ap);
  }
  const directory = gateway.labels.directory;
  await waitFor(() => labelsOf.every((ids) => ids.length === 0 || directory.drivers().some((d) => d.driverId === `mqtt-ap:${ids[0]!.split('-L')[0]}`)), 30_000, 'AP drivers');
  for (const [index, ids] of labelsOf.entries()) for (const id of ids) aps[index]!.checkInNow(id);
  await waitFor(() => labelsOf.every((ids) => ids.every((id) => directory.driverFor(id) !== undefined)), 60_000, 'every label reported by its AP');
}

function campaignReached(gateway: StoreGateway, campaignId: string, confirmed: number, timeoutMs: number): Promise<CampaignProgress> {
  return onProgress(gateway, campaignId, (event) => event.counts.confirmed >= confirmed || event.finishedAt !== undefined, timeoutMs);
}

function campaignFinished(gateway: StoreGateway, campaignId: string, timeoutMs: number): Promise<CampaignProgress> {
  return onProgress(gateway, campaignId, (event) => event.finishedAt !== undefined, timeoutMs);
}

function onProgress(gateway: StoreGateway, campaignId: string, done: (event: CampaignProgress) => boolean, timeoutMs: number): Promise<CampaignProgress> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      const view = gateway.campaigns.get(campaignId);
      reject(new Error(`labels bench: campaign ${campaignId} not there within ${timeoutMs} ms (${JSON.stringify(view?.counts)})`));
    }, timeoutMs);
    const unsubscribe = gateway.bus.on('campaign.progress', 'bench:labels', (event) => {
      if (event.campaignId !== campaignId || !done(event)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(event);
    });
  });
}

/** `gc` without --expose-gc on the command line (npm run bench starts node without it): the flag, then a fresh context. */
function collectGarbage(): void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed();
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** After a GC and a pause: V8 hands freed pages back to the OS a moment after the collection, not during it. */
async function memoryAfterGc(): Promise<{ rss: number; js: number }> {
  collectGarbage();
  await sleep(500);
  collectGarbage();
  await sleep(500);
  const usage = process.memoryUsage();
  return { rss: usage.rss, js: usage.heapUsed + usage.external };
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`labels bench: timed out waiting for ${what}`);
    await sleep(20);
  }
}
