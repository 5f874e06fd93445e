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
 *  - resume: a second campaign runs with half the APs away; once the present half confirmed, the gateway is stopped; a
 *    new gateway on the same data dir is timed from `start()` until that campaign is back, running, with the confirmed
 *    count it had, then from the APs reconnecting until it finished (counting the commands sent after the restart).
 * The send caps — labels.campaigns.sendsPerSecondPerDriver and labels.drivers.apMaxCommandsPerSecond, 200/s per AP
 * in production, a radio's pace — are lifted (`apCommandsPerSecond`): the simulated radio answers at once, so what is
 * timed is the gateway's own cost. Baseline and campaign alternate for `rounds` rounds; the median ratio is reported.
 */
import { Session } from 'node:inspector';
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
import type { CampaignProgress } from '../edge/campaigns/campaign-service.js';
import { configDefaults } from '../edge/core/schema-defaults.js';
import { MqttApDriverLimitsSchema } from '../edge/labels/label-driver-limits.js';
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
  /**
   * what the simulated radio takes per access point per second: both send caps are set to it
   * (labels.campaigns.sendsPerSecondPerDriver and labels.drivers.apMaxCommandsPerSecond, production default 200)
   */
  apCommandsPerSecond: number;
  /** give up on a campaign after this long */
  timeoutMs: number;
  /**
   * campaign and baseline are each run this many times, alternately (each campaign a new price for every label), and
   * the median of the per-round ratios is reported: one round on a shared machine can be off by a third either way
   */
  rounds: number;
};

// the simulated radio takes whatever it is handed: the benchmark measures the gateway, not a radio policy
export const LABELS_BENCH_DEFAULT: LabelsBenchSettings = {
  labels: 50_000,
  accessPoints: 20,
  apCommandsPerSecond: 100_000,
  timeoutMs: 600_000,
  rounds: 3,
};
export const LABELS_BENCH_SMOKE: LabelsBenchSettings = {
  labels: 2_000,
  accessPoints: 4,
  apCommandsPerSecond: 100_000,
  timeoutMs: 120_000,
  rounds: 1,
};

export type TickFigures = { count: number; maxMs: number; totalMs: number; timersAtEnd: number };

export type LabelsBenchResult = {
  labels: number;
  accessPoints: number;
  /** the median round's figures (elapsedMs: the median of the rounds) */
  campaign: { elapsedMs: number; confirmed: number; failed: number; labelsPerS: number };
  baseline: { elapsedMs: number; roundTrips: number; perS: number; inFlightPerConnection: number };
  /** the median of the per-round ratios */
  ratio: number;
  rounds: { campaignMs: number; baselineMs: number; ratio: number }[];
  /** the longest synchronous campaigns.create() of the rounds: the event loop is held that long */
  createMaxMs: number;
  /** process memory after the campaign minus before it (after a GC), per 1,000 labels; js = heap used + external */
  memory: { rssBeforeBytes: number; rssAfterBytes: number; rssPer1000Labels: number; jsPer1000Labels: number };
  /** the campaign service's tick (synchronous part) while the campaign ran */
  campaignTicks: TickFigures;
  resume: {
    confirmedBefore: number;
    startMs: number;
    resumedMs: number;
    confirmedAfter: number;
    /** from the access points reconnecting until the resumed campaign finished */
    finishMs: number;
    finishedConfirmed: number;
    /** label commands the restarted gateway sent: the labels not confirmed before, no more */
    sentAfterRestart: number;
  };
};

export async function runLabelsBench(
  settings: LabelsBenchSettings,
  progress: (line: string) => void = () => undefined,
): Promise<LabelsBenchResult> {
  const inFlight = configDefaults(MqttApDriverLimitsSchema).maxInFlight;
  const baselineRound = async () => {
    const baseline = await runBaseline(settings.labels, settings.accessPoints, inFlight);
    progress(
      `labels baseline: ${settings.labels} QoS 1 round trips over ${settings.accessPoints} connections ` +
        `through bare aedes in ${baseline.elapsedMs.toFixed(0)} ms`,
    );
    return baseline;
  };

  const dir = await makeTempDir('labels');
  // BENCH_LOG_LEVEL=debug shows each part's start time on stderr
  const log = pino({ level: process.env.BENCH_LOG_LEVEL ?? 'silent' }, pino.destination(2));
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
    let memoryAfter = memoryBefore;
    // create() runs synchronously (validation, every label's state, the first sends): how long it holds the event loop
    const createMs: number[] = [];
    const rounds: {
      campaignMs: number;
      baselineMs: number;
      ratio: number;
      end: CampaignProgress;
      baseline: Awaited<ReturnType<typeof runBaseline>>;
    }[] = [];
    let campaignTicks = ticks;
    const timersOf = () => Number(campaigns.health().timers);
    for (let round = 0; round < settings.rounds; round++) {
      const baseline = await baselineRound();
      // LABELS_BENCH_PROFILE=file.cpuprofile: a CPU profile of the first campaign alone (node dist/bench/cpuprofile-summary.js reads it)
      const profiler = round === 0 ? await startProfiler(process.env.LABELS_BENCH_PROFILE) : undefined;
      const started = performance.now();
      const campaignId = `bench-1-${round}`;
      const finished = campaignFinished(gateway, campaignId, settings.timeoutMs);
      const createBegan = performance.now();
      campaigns.create({ id: campaignId, prices: pricesFor(settings, 100 + round * 1_000), createdBy: 'bench' });
      createMs.push(performance.now() - createBegan);
      const end = await finished;
      const campaignMs = performance.now() - started;
      await profiler?.stop();
      rounds.push({ campaignMs, baselineMs: baseline.elapsedMs, ratio: campaignMs / baseline.elapsedMs, end, baseline });
      progress(
        `labels campaign: ${end.counts.confirmed} confirmed, ${end.counts.failed} failed in ${campaignMs.toFixed(0)} ms ` +
          `(${(campaignMs / baseline.elapsedMs).toFixed(2)}×); longest campaign tick ${ticks.maxMs.toFixed(1)} ms`,
      );
      if (round === 0) {
        // what the first campaign left: its labels tracked; the later rounds replace the same labels' records
        ticks.timersAtEnd = timersOf();
        campaignTicks = ticks;
        ticks = { count: 0, maxMs: 0, totalMs: 0, timersAtEnd: 0 };
        memoryAfter = await memoryAfterGc();
      }
    }
    const median = [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor((rounds.length - 1) / 2)]!;
    const elapsedMs = median.campaignMs;
    const end = median.end;
    const baseline = median.baseline;

    // resume: a second campaign while half the access points are away — the labels behind the others confirm, the
    // rest wait in their drivers' offline queues — stopped (the whole gateway) once the present half confirmed
    const present = Math.ceil(settings.accessPoints / 2);
    for (const ap of aps.splice(present)) await ap.stop();
    const confirmable = labelsOf.slice(0, present).reduce((sum, ids) => sum + ids.length, 0);
    const halfway = campaignReached(gateway, 'bench-2', confirmable, settings.timeoutMs);
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
      throw new Error(
        `labels bench: campaign bench-2 after the restart: ${resumedView?.state ?? 'gone'}, ` +
          `${resumedView?.counts.confirmed} confirmed (${confirmedBefore} before)`,
      );
    }
    // every access point comes back: the resumed campaign sends only what is not confirmed yet
    const finishedAgain = campaignFinished(gateway, 'bench-2', settings.timeoutMs);
    const backBegan = performance.now();
    await startAccessPoints(gateway, labelsOf, aps, log, { provisioned: true, checkIn: false });
    const finishedView = await finishedAgain;
    const finishMs = performance.now() - backBegan;
    const sentAfterRestart = gateway.campaigns.counters.sends;
    progress(
      `labels resume: ${resumedView.counts.confirmed} of ${resumedView.total} confirmed, ` +
        `back in ${resumedMs.toFixed(0)} ms (gateway start ${startMs.toFixed(0)} ms)`,
    );

    return {
      labels: settings.labels,
      accessPoints: settings.accessPoints,
      campaign: {
        elapsedMs,
        confirmed: end.counts.confirmed,
        failed: end.counts.failed,
        labelsPerS: (end.counts.confirmed / elapsedMs) * 1000,
      },
      baseline: { ...baseline, inFlightPerConnection: inFlight },
      ratio: median.ratio,
      rounds: rounds.map(({ campaignMs, baselineMs, ratio }) => ({ campaignMs, baselineMs, ratio })),
      createMaxMs: Math.max(...createMs),
      memory: {
        rssBeforeBytes: memoryBefore.rss,
        rssAfterBytes: memoryAfter.rss,
        rssPer1000Labels: ((memoryAfter.rss - memoryBefore.rss) / settings.labels) * 1000,
        jsPer1000Labels: ((memoryAfter.js - memoryBefore.js) / settings.labels) * 1000,
      },
      campaignTicks,
      resume: {
        confirmedBefore,
        startMs,
        resumedMs,
        confirmedAfter: resumedView.counts.confirmed,
        finishMs,
        finishedConfirmed: finishedView.counts.confirmed,
        sentAfterRestart,
      },
    };
  } finally {
    for (const ap of aps) await ap.stop().catch(() => undefined);
    await gateway?.gateway.stop().catch(() => undefined);
    await removeTempDir(dir);
  }
}

/** `labels` QoS 1 publishes + PUBACKs through bare aedes, spread over `connections`, `inFlight` unacknowledged each. */
async function runBaseline(
  labels: number,
  connections: number,
  inFlight: number,
): Promise<{ elapsedMs: number; roundTrips: number; perS: number }> {
  const broker = await Aedes.createBroker();
  const server: Server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const clients = await Promise.all(
    Array.from({ length: connections }, (_, i) =>
      mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: `bench-ap-${i}`, reconnectPeriod: 0 }),
    ),
  );
  try {
    // the same shape as an AP command: one label's content, JSON
    const payload = (i: number) =>
      JSON.stringify({
        cmdId: `c-${i}`,
        labelId: `ap-L${i}`,
        type: 'set-price',
        sku: '4000000000017',
        priceCents: 100 + (i % 900),
        productName: 'Oat milk 1 l',
      });
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
      facings: Array.from({ length: Math.min(FACINGS_PER_SHELF, facings - s * FACINGS_PER_SHELF) }, (_, f) => ({
        facing: f + 1,
        sku: skuOf(s * FACINGS_PER_SHELF + f),
        capacityUnits: 10,
        lowStockUnits: 2,
        restockUnits: 5,
      })),
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
      labels: {
        drivers: {
          maxLabels: Math.max(100_000, settings.labels),
          maxAccessPoints: Math.max(32, settings.accessPoints),
          apMaxCommandsPerSecond: settings.apCommandsPerSecond,
        },
        campaigns: { sendsPerSecondPerDriver: settings.apCommandsPerSecond },
      },
    },
  });
}

function pricesFor(settings: LabelsBenchSettings, base: number): Record<string, number> {
  const prices: Record<string, number> = {};
  for (let i = 0; i < Math.ceil(settings.labels / LABELS_PER_FACING); i++) prices[skuOf(i)] = base + i;
  return prices;
}

const secrets = new Map<string, string>();

/** Provisions and connects the APs (every label awake, no ack lost) and waits until their drivers carry every label. */
async function startAccessPoints(
  gateway: StoreGateway,
  labelsOf: string[][],
  aps: MqttApSimulator[],
  log: pino.Logger,
  again?: { provisioned: true; checkIn: false },
): Promise<void> {
  const url = `mqtt://127.0.0.1:${gateway.broker.port}`;
  for (const [index, ids] of labelsOf.entries()) {
    const deviceId = apId(index);
    const secret = again ? secrets.get(deviceId)! : await gateway.devices.registry.provision(deviceId, 'ap');
    secrets.set(deviceId, secret);
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
  if (again) return;
  const directory = gateway.labels.directory;
  await waitFor(
    () => labelsOf.every((ids) => ids.length === 0 || directory.drivers().some((d) => d.driverId === `mqtt-ap:${ids[0]!.split('-L')[0]}`)),
    30_000,
    'AP drivers',
  );
  for (const [index, ids] of labelsOf.entries()) for (const id of ids) aps[index]!.checkInNow(id);
  await waitFor(
    () => labelsOf.every((ids) => ids.every((id) => directory.driverFor(id) !== undefined)),
    60_000,
    'every label reported by its AP',
  );
}

function campaignReached(gateway: StoreGateway, campaignId: string, confirmed: number, timeoutMs: number): Promise<CampaignProgress> {
  return onProgress(gateway, campaignId, (event) => event.counts.confirmed >= confirmed || event.finishedAt !== undefined, timeoutMs);
}

function campaignFinished(gateway: StoreGateway, campaignId: string, timeoutMs: number): Promise<CampaignProgress> {
  return onProgress(gateway, campaignId, (event) => event.finishedAt !== undefined, timeoutMs);
}

function onProgress(
  gateway: StoreGateway,
  campaignId: string,
  done: (event: CampaignProgress) => boolean,
  timeoutMs: number,
): Promise<CampaignProgress> {
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

/** The V8 profiler of this process (node:inspector), started now; `stop()` writes the profile to `file`. */
async function startProfiler(file: string | undefined): Promise<{ stop(): Promise<void> } | undefined> {
  if (!file) return undefined;
  const session = new Session();
  session.connect();
  const post = (method: string) =>
    new Promise<unknown>((resolve, reject) => session.post(method, (error, result) => (error ? reject(error) : resolve(result))));
  await post('Profiler.enable');
  await post('Profiler.start');
  return {
    async stop() {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      await writeFile(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
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
