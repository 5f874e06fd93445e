/**
 * Benchmark — the OPC UA server (issue 16):
 *
 * 1. Delivery: `shelves × facingsPerShelf` facings (1,000 by default) change at `rateHz` (10 Hz): every shelf publishes
 *    each facing's weight over MQTT, alternating between two unit counts so every reading changes the facing's units.
 *    An OPC UA client (SignAndEncrypt, user name) monitors every facing's `units` (1,000 monitored items); we count the
 *    notifications it receives per second and the gateway's CPU share (user + system of its process).
 *    Baseline in the same run: the MQTT way to get the same updates — a subscriber of bare aedes. The gateway's broker
 *    lets no client subscribe to device topics (its ACL), so every shelf publishes each reading twice, to the gateway
 *    and to a bare aedes (bench/broker-process.ts) that relays it to one subscriber on `store/+/shelf/+/weight`; we
 *    count what that subscriber receives and aedes's CPU share. Ratios: OPC UA updates / MQTT updates, gateway CPU /
 *    aedes CPU. The gateway's CPU is also measured under the same load before the OPC UA client subscribes, so the
 *    server's own share shows (gateway CPU with the subscriber − without).
 * 2. Start-up: a fresh process builds and starts the gateway (planogram of the same size) with the OPC UA server off,
 *    on, and on with the OPC 40200 Scales nodeset; time from buildGateway() to started, and RSS after. The first start
 *    of each variant creates its database and PKI (server key and certificate) and is reported apart.
 *
 * `runOpcuaBench(OPCUA_BENCH_SMOKE, console.log)` is a tiny run (seconds); alone: `node dist/bench/opcua.js [--smoke]
 * [--no-startup | --startup-only]`.
 * Forks itself as the gateway process
 * (env OPCUA_BENCH_CHILD=1) and bench/broker-process.js as the bare aedes; node-opcua is imported only when it runs.
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readdir, rename } from 'node:fs/promises';
import mqtt, { type MqttClient } from 'mqtt';
import type { StoreGateway } from '../edge/main.js';
import type { StartResult as BrokerStartResult } from './broker-process.js';
import { STORE_ID, benchGatewayConfig, benchPlanogram, secretOf, shelfId, topicOf, weightPayload, writePlanogram } from './fixture.js';
import { ChildHandle, makeTempDir, removeTempDir, serveRequests } from './ipc.js';
import { cpuSecondsOf, rssOf } from './procfs.js';
import { median, sleep } from './stats.js';

export type OpcuaBenchSettings = {
  shelves: number;
  facingsPerShelf: number;
  rateHz: number;
  warmupMs: number;
  measureMs: number;
  /** counted start-ups per variant (after one uncounted first start that creates the database and PKI); 0 skips */
  startupRuns: number;
  /** load OPC 40200 Scales in the delivery run */
  scalesNodeset: boolean;
};

export const OPCUA_BENCH_DEFAULT: OpcuaBenchSettings = {
  shelves: 125,
  facingsPerShelf: 8,
  rateHz: 10,
  warmupMs: 3_000,
  measureMs: 10_000,
  startupRuns: 5,
  scalesNodeset: true,
};
export const OPCUA_BENCH_SMOKE: OpcuaBenchSettings = {
  shelves: 4,
  facingsPerShelf: 4,
  rateHz: 5,
  warmupMs: 1_000,
  measureMs: 2_000,
  startupRuns: 1,
  scalesNodeset: false,
};

type Variant = 'off' | 'opcua' | 'opcua+scales';
type ChildStartParams = { dataDir: string; planogramFile: string; variant: Variant };
type ChildStartResult = {
  startMs: number;
  /** CPU time the process used over startMs (user + system): what start-up costs, whatever else the machine runs */
  cpuMs: number;
  /** from buildGateway() to every facing's OPC 40200 scale in DeviceSet (added after the server listens); = startMs without */
  scalesAddedMs: number;
  importMs: number;
  rssBytes: number;
  mqttPort: number;
  opcuaEndpoint: string | null;
  pid: number;
};

export type OpcuaStartup = {
  variant: Variant;
  firstStartMs: number;
  medianStartMs: number;
  medianCpuMs: number;
  /** until the Scales devices are all in DeviceSet (added after start-up, in batches) */
  medianScalesAddedMs: number;
  importMs: number;
  rssMB: number;
};

export type OpcuaBenchResult = {
  items: number;
  rateHz: number;
  /** updates per second the shelves caused (items × rate) */
  offeredPerS: number;
  /** facing changes the gateway published in the window (stock.changed): what the OPC UA server was given */
  stockChangesPerS: number;
  opcuaUpdatesPerS: number;
  mqttUpdatesPerS: number;
  /** OPC UA updates delivered / MQTT updates delivered, same run, same window */
  deliveryRatio: number;
  gatewayCpuPercent: number;
  gatewayCpuPercentWithoutSubscriber: number;
  aedesCpuPercent: number;
  /** gateway CPU (ingest, pipeline, storage and OPC UA) / bare aedes CPU (ingest and relay) */
  cpuRatio: number;
  startup: OpcuaStartup[];
};

const BENCH_USER = { userName: 'bench', password: 'bench-password-0123' };

// ---------------------------------------------------------------- child: the gateway under test

async function childStart(params: ChildStartParams): Promise<ChildStartResult> {
  const began = performance.now();
  const { buildGateway } = await import('../edge/main.js');
  const { hashOpcuaPassword } = await import('../edge/opcua/opcua-users.js');
  const { createLogger } = await import('../edge/core/logger.js');
  const imported = performance.now();
  const config = await benchGatewayConfig({
    dataDir: params.dataDir,
    planogramFile: params.planogramFile,
    lowStock: { smoothingWindow: 1 },
  });
  config.opcua.server = {
    ...config.opcua.server,
    enabled: params.variant !== 'off',
    host: '127.0.0.1',
    hostname: '127.0.0.1',
    port: 0,
    scalesNodeset: params.variant === 'opcua+scales',
    users: [{ username: BENCH_USER.userName, passwordHash: await hashOpcuaPassword(BENCH_USER.password, 1024) }],
  };
  const startAt = performance.now();
  const cpuAtStart = process.cpuUsage();
  gateway = buildGateway(config, { log: createLogger({ level: 'silent', pretty: false }) });
  gateway.bus.on('stock.changed', 'bench', () => stockChanges++);
  await gateway.gateway.start();
  const startMs = performance.now() - startAt;
  const cpu = process.cpuUsage(cpuAtStart);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  await gateway.opcuaServer.scalesAdded;
  const scalesAddedMs = performance.now() - startAt;
  return {
    startMs,
    cpuMs,
    scalesAddedMs,
    importMs: imported - began,
    rssBytes: rssOf('self'),
    mqttPort: gateway.broker.port,
    opcuaEndpoint: gateway.opcuaServer.endpointUrl ?? null,
    pid: process.pid,
  };
}

let gateway: StoreGateway | undefined;
let stockChanges = 0;

if (process.env.OPCUA_BENCH_CHILD === '1' && process.send) {
  serveRequests(
    {
      start: childStart,
      /** facing changes the gateway published (stock.changed): what the OPC UA server had to deliver */
      stockChanges: async () => stockChanges,
      provision: async (ids: string[]) => {
        for (const id of ids) await gateway?.devices.registry.provision(id, 'shelf', secretOf(id));
        return ids.length;
      },
    },
    async () => {
      await gateway?.gateway.stop();
    },
  );
}

// ---------------------------------------------------------------- orchestrator

async function startGateway(params: ChildStartParams): Promise<{ child: ChildHandle; started: ChildStartResult }> {
  const child = ChildHandle.fork('opcua', { env: { OPCUA_BENCH_CHILD: '1' } });
  try {
    return { child, started: await child.request<ChildStartResult>('start', params, 300_000) };
  } catch (error) {
    await child.close();
    throw error;
  }
}

async function measureStartup(
  root: string,
  planogramFile: string,
  settings: OpcuaBenchSettings,
  progress: (line: string) => void,
): Promise<OpcuaStartup[]> {
  const results: OpcuaStartup[] = [];
  for (const variant of ['off', 'opcua', 'opcua+scales'] as const) {
    const dataDir = join(root, `start-${variant.replace('+', '-')}`);
    const samples: ChildStartResult[] = [];
    for (let run = 0; run <= settings.startupRuns; run++) {
      const { child, started } = await startGateway({ dataDir, planogramFile, variant });
      samples.push(started);
      await child.close(30_000);
    }
    const [first, ...counted] = samples as [ChildStartResult, ...ChildStartResult[]];
    const result: OpcuaStartup = {
      variant,
      firstStartMs: Math.round(first.startMs),
      medianStartMs: Math.round(median(counted.map((s) => s.startMs))),
      medianCpuMs: Math.round(median(counted.map((s) => s.cpuMs))),
      medianScalesAddedMs: Math.round(median(counted.map((s) => s.scalesAddedMs))),
      importMs: Math.round(median(counted.map((s) => s.importMs))),
      rssMB: Math.round(median(counted.map((s) => s.rssBytes)) / 1e6),
    };
    const scales = variant === 'opcua+scales' ? `, Scales devices all in DeviceSet at ${result.medianScalesAddedMs} ms` : '';
    progress(
      `opcua: start-up ${variant}: ${result.medianStartMs} ms (CPU ${result.medianCpuMs} ms)${scales} ` +
        `(first start ${result.firstStartMs} ms), RSS ${result.rssMB} MB`,
    );
    results.push(result);
  }
  return results;
}

/** Part 2 alone (row 6b): `node dist/bench/opcua.js --startup-only`. */
export async function runOpcuaStartupBench(settings: OpcuaBenchSettings, progress: (line: string) => void): Promise<OpcuaStartup[]> {
  const root = await makeTempDir('opcua');
  try {
    const shelfIds = Array.from({ length: settings.shelves }, (_, i) => shelfId(i + 1));
    const planogramFile = join(root, 'planogram.yaml');
    await writePlanogram(planogramFile, benchPlanogram(shelfIds, settings.facingsPerShelf));
    return await measureStartup(root, planogramFile, settings, progress);
  } finally {
    await removeTempDir(root);
  }
}

/** The first connection of a new client certificate is refused; trust it as store IT would (rejected/ → trusted/certs/). */
async function trustRejected(pkiDir: string): Promise<void> {
  for (const file of await readdir(join(pkiDir, 'rejected')))
    await rename(join(pkiDir, 'rejected', file), join(pkiDir, 'trusted', 'certs', file));
}

export async function runOpcuaBench(settings: OpcuaBenchSettings, progress: (line: string) => void): Promise<OpcuaBenchResult> {
  const [ua, { OPCUACertificateManager }] = await Promise.all([import('node-opcua-client'), import('node-opcua-certificate-manager')]);
  const root = await makeTempDir('opcua');
  const shelfIds = Array.from({ length: settings.shelves }, (_, i) => shelfId(i + 1));
  const planogramFile = join(root, 'planogram.yaml');
  await writePlanogram(planogramFile, benchPlanogram(shelfIds, settings.facingsPerShelf));
  const items = settings.shelves * settings.facingsPerShelf;

  const closers: Array<() => Promise<unknown>> = [];
  try {
    const startup = settings.startupRuns > 0 ? await measureStartup(root, planogramFile, settings, progress) : [];

    const dataDir = join(root, 'delivery');
    const { child: gatewayChild, started } = await startGateway({
      dataDir,
      planogramFile,
      variant: settings.scalesNodeset ? 'opcua+scales' : 'opcua',
    });
    closers.push(() => gatewayChild.close(30_000));
    await gatewayChild.request('provision', shelfIds);
    const aedesChild = ChildHandle.fork('broker-process');
    closers.push(() => aedesChild.close(10_000));
    const aedes = await aedesChild.request<BrokerStartResult>('start', { kind: 'aedes' });

    const connect = (port: number, options: mqtt.IClientOptions) =>
      mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, keepalive: 60, ...options });
    const shelves: MqttClient[] = await Promise.all(
      shelfIds.map((id) => connect(started.mqttPort, { clientId: id, username: id, password: secretOf(id) })),
    );
    const relays: MqttClient[] = await Promise.all(shelfIds.map((id) => connect(aedes.mqttPort, { clientId: `relay-${id}` })));
    const subscriber = await connect(aedes.mqttPort, { clientId: 'bench-subscriber' });
    closers.push(() => Promise.all([...shelves, ...relays, subscriber].map((c) => c.endAsync(true).catch(() => undefined))));
    let mqttDelivered = 0;
    subscriber.on('message', () => mqttDelivered++);
    await subscriber.subscribeAsync(`store/${STORE_ID}/shelf/+/weight`, { qos: 0 });

    // the load: every facing changes units at rateHz, published to the gateway and, the same bytes, to bare aedes
    let tick = 0;
    const topics = shelfIds.map((id) => topicOf('shelf', id, 'weight'));
    const load = setInterval(() => {
      tick++;
      const units = tick % 2 === 0 ? 12 : 13;
      const now = Date.now();
      for (let s = 0; s < shelves.length; s++) {
        for (let facing = 1; facing <= settings.facingsPerShelf; facing++) {
          const payload = weightPayload(facing, units, 0, now);
          (shelves[s] as MqttClient).publish(topics[s] as string, payload, { qos: 0 });
          (relays[s] as MqttClient).publish(topics[s] as string, payload, { qos: 0 });
        }
      }
    }, 1000 / settings.rateHz);
    closers.push(async () => clearInterval(load));

    const cpuWindow = async (pid: number, ms: number) => {
      const before = cpuSecondsOf(pid);
      await sleep(ms);
      return ((cpuSecondsOf(pid) - before) / (ms / 1000)) * 100;
    };
    await sleep(settings.warmupMs);
    const gatewayCpuPercentWithoutSubscriber = await cpuWindow(started.pid, settings.measureMs);
    progress(`opcua: gateway CPU under load, no OPC UA subscriber: ${gatewayCpuPercentWithoutSubscriber.toFixed(0)} %`);

    // the OPC UA subscriber: SignAndEncrypt + user name, as a client in a store would connect
    const pkiDir = join(dataDir, 'opcua-pki');
    const newClient = () =>
      ua.OPCUAClient.create({
        applicationName: 'opcua-bench',
        securityMode: ua.MessageSecurityMode.SignAndEncrypt,
        securityPolicy: ua.SecurityPolicy.Basic256Sha256,
        endpointMustExist: false,
        connectionStrategy: { maxRetry: 0 },
        clientCertificateManager: new OPCUACertificateManager({
          rootFolder: join(root, 'client-pki'),
          automaticallyAcceptUnknownCertificate: true,
        }),
      });
    const endpoint = started.opcuaEndpoint as string;
    await newClient()
      .connect(endpoint)
      .then(
        () => undefined,
        () => undefined,
      );
    await trustRejected(pkiDir);
    const client = newClient();
    for (let attempt = 0; ; attempt++) {
      try {
        await client.connect(endpoint);
        break;
      } catch (error) {
        if (attempt > 20) throw error;
        await sleep(250); // the server picks trusted/ up from its file watcher
      }
    }
    closers.push(() => client.disconnect());
    const session = await client.createSession({ type: ua.UserTokenType.UserName, ...BENCH_USER });
    closers.push(() => session.close());
    const subscription = await session.createSubscription2({
      // two publishes per update period: one response carries at most 1,000 notifications (node-opcua's limit)
      requestedPublishingInterval: 50,
      requestedMaxKeepAliveCount: 20,
      requestedLifetimeCount: 200,
      maxNotificationsPerPublish: 0,
      publishingEnabled: true,
    });
    let opcuaDelivered = 0;
    const monitored = shelfIds.flatMap((id) =>
      Array.from({ length: settings.facingsPerShelf }, (_, i) => ({
        nodeId: `ns=1;s=shelf/${id}/facing/${i + 1}/units`,
        attributeId: ua.AttributeIds.Value,
      })),
    );
    const group = ua.ClientMonitoredItemGroup.create(
      subscription,
      monitored,
      { samplingInterval: 0, queueSize: 10, discardOldest: true },
      ua.TimestampsToReturn.Both,
    );
    group.on('changed', () => opcuaDelivered++);
    await sleep(settings.warmupMs);

    const counts0 = { opcua: opcuaDelivered, mqtt: mqttDelivered, changes: await gatewayChild.request<number>('stockChanges') };
    const cpu0 = { gateway: cpuSecondsOf(started.pid), aedes: cpuSecondsOf(aedes.pid) };
    const t0 = performance.now();
    await sleep(settings.measureMs);
    const seconds = (performance.now() - t0) / 1000;
    const stockChangesPerS = ((await gatewayChild.request<number>('stockChanges')) - counts0.changes) / seconds;
    const opcuaUpdatesPerS = (opcuaDelivered - counts0.opcua) / seconds;
    const mqttUpdatesPerS = (mqttDelivered - counts0.mqtt) / seconds;
    const gatewayCpuPercent = ((cpuSecondsOf(started.pid) - cpu0.gateway) / seconds) * 100;
    const aedesCpuPercent = ((cpuSecondsOf(aedes.pid) - cpu0.aedes) / seconds) * 100;
    await subscription.terminate().catch(() => undefined);

    const result: OpcuaBenchResult = {
      items,
      rateHz: settings.rateHz,
      offeredPerS: items * settings.rateHz,
      stockChangesPerS: Math.round(stockChangesPerS),
      opcuaUpdatesPerS: Math.round(opcuaUpdatesPerS),
      mqttUpdatesPerS: Math.round(mqttUpdatesPerS),
      deliveryRatio: mqttUpdatesPerS > 0 ? Math.round((opcuaUpdatesPerS / mqttUpdatesPerS) * 100) / 100 : 0,
      gatewayCpuPercent: Math.round(gatewayCpuPercent),
      gatewayCpuPercentWithoutSubscriber: Math.round(gatewayCpuPercentWithoutSubscriber),
      aedesCpuPercent: Math.round(aedesCpuPercent),
      cpuRatio: aedesCpuPercent > 0 ? Math.round((gatewayCpuPercent / aedesCpuPercent) * 10) / 10 : 0,
      startup,
    };
    progress(
      `opcua: ${items} items at ${settings.rateHz} Hz: OPC UA ${result.opcuaUpdatesPerS}/s ` +
        `(of ${result.stockChangesPerS} facing changes/s) vs MQTT ${result.mqttUpdatesPerS}/s (×${result.deliveryRatio}); ` +
        `CPU gateway ${result.gatewayCpuPercent} % (${result.gatewayCpuPercentWithoutSubscriber} % without the OPC UA subscriber) ` +
        `vs aedes ${result.aedesCpuPercent} %`,
    );
    return result;
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await removeTempDir(root);
  }
}

// `node dist/bench/opcua.js [--smoke] [--no-startup | --startup-only]`: this benchmark alone, its result as JSON
if (process.env.OPCUA_BENCH_CHILD !== '1' && process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const base = process.argv.includes('--smoke') ? OPCUA_BENCH_SMOKE : OPCUA_BENCH_DEFAULT;
  const settings = process.argv.includes('--no-startup') ? { ...base, startupRuns: 0 } : base;
  const log = (line: string) => console.log(line);
  const run = process.argv.includes('--startup-only') ? runOpcuaStartupBench(settings, log) : runOpcuaBench(settings, log);
  run.then(
    (result) => {
      console.log(JSON.stringify(result, null, 2));
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
