#!/usr/bin/env node
/**
 * `npm run demo`: the gateway on embedded defaults plus a simulated store (4 shelves × 6 facings, 2 kiosks, a
 * refrigerated case over MQTT (case-drinks; another, case-dairy, over OPC UA), and 24
 * labels: 8 direct MQTT labels, 8 behind a simulated MQTT access point, 8 behind a simulated OpenEPaperLink AP on
 * 127.0.0.1:4842 — see devices/demo-labels.ts) publishing over real MQTT with their own credentials. Credentials persist in
 * <dataDir>/demo-credentials.json so a restarted demo reconnects the same devices; a device whose secret store IT
 * rotated meanwhile (`smartstore-edge device rotate-secret`) is re-provisioned when the broker refuses it.
 * SMARTSTORE_DEMO_CONFIG=<file> runs it on another config than config/demo.yaml (other ports, another data dir).
 * SIGINT or SIGTERM (Ctrl+C, `kill`, or npm passing one on: the script `exec`s node, so npm's signal reaches it) stops
 * it in order within seconds (Ctrl+C's copies from the terminal and from npm count once); a second one exits at once.
 */
import { randomBytes } from 'node:crypto';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { newApiToken, tokenDigest } from '../edge/access/api-token.js';
import { ConfigError } from '../edge/config/gateway-config.js';
import { loadConfig } from '../edge/config/load-config.js';
import { createLogger } from '../edge/core/logger.js';
import { buildGateway, type StoreGateway } from '../edge/main.js';
import { readCredentialsFile, writeCredentialsFile, type DeviceCredential } from './credentials-file.js';
import type { SecretRenewal } from './device-connection.js';
import {
  LABEL_DISPLAY_FILE,
  LabelDisplayFileError,
  readLabelDisplays,
  type KeptDisplay,
  type LabelDisplays,
} from './label-display-file.js';
import { LabelDisplayKeeper } from './label-display-keeper.js';
import { loadPlanogramFile, parsePlanogramLabels, readPlanogramText } from '../edge/planogram/planogram-file.js';
import { PlanogramIndex } from '../edge/planogram/planogram.js';
import { DEMO_AP_ID, DemoAccessPoints, DemoLabelsError, planDemoLabels } from './demo-labels.js';
import { DEMO_CHECKOUT_DELAY_MS, DEMO_INSIGHT_FAULTS, missingFaultFacings } from './demo-insight-faults.js';
import { seededRandom } from './random.js';
import { StoreSimulation, demoDeviceIds } from './store-simulation.js';
// first: it routes node-opcua's process-wide warnings into the gateway's log before the simulator loads node-opcua
// (whose start-up check would otherwise print a raw [NODE-OPCUA-W27] line on stdout)
import '../edge/opcua/opcua-server.js';
import { OpcuaCaseSimulator, demoCaseScenario } from './opcua-case-simulator.js';

const DEMO_CONFIG = new URL(import.meta.url.includes('/dist/') ? '../../config/demo.yaml' : '../config/demo.yaml', import.meta.url)
  .pathname;

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * Reuses the demo's saved secrets; provisions devices that are new, and those the registry no longer has (removed with
 * the CLI between runs); re-keys a registered device whose saved secret is lost (demo-credentials.json deleted). A saved
 * secret that store IT rotated meanwhile is renewed when the broker refuses it.
 */
async function demoCredentials(
  built: StoreGateway,
  file: string,
  wanted: { deviceId: string; kind: DeviceCredential['kind'] }[],
  log: { warn(fields: object, message: string): void },
): Promise<DeviceCredential[]> {
  const saved = (await exists(file)) ? (await readCredentialsFile(file)).devices : [];
  const byId = new Map(saved.map((c) => [c.deviceId, c]));
  const credentials: DeviceCredential[] = [];
  for (const { deviceId, kind } of wanted) {
    const known = byId.get(deviceId);
    const registered = built.devices.registry.get(deviceId);
    if (known && registered) {
      credentials.push(known);
      continue;
    }
    const rotated = registered ? await built.devices.registry.rotateSecret(deviceId) : undefined;
    if (rotated) {
      log.warn({ deviceId, kind, file }, `device ${deviceId}'s demo secret is lost: re-provisioned it with a new secret`);
      credentials.push({ deviceId, kind, secret: rotated.secret });
      continue;
    }
    credentials.push({ deviceId, kind, secret: await built.devices.registry.provision(deviceId, kind) });
  }
  return credentials;
}

/**
 * What a simulated device does when the broker refuses its secret (store IT ran `device rotate-secret` on the demo's
 * data dir, now or between runs): the demo re-provisions it through the registry, as a technician would re-key a real
 * one, and keeps demo-credentials.json current. A device the registry no longer has stays refused: someone removed it.
 */
function demoSecretRenewal(options: {
  built: StoreGateway;
  credentials: DeviceCredential[];
  save: () => Promise<void>;
  log: { warn(fields: object, message: string): void };
}): SecretRenewal {
  const { built, credentials, save, log } = options;
  const reportedRemoved = new Set<string>();
  return async ({ deviceId, kind }) => {
    const rotated = await built.devices.registry.rotateSecret(deviceId);
    if (!rotated) {
      // bounded by the demo's devices
      if (!reportedRemoved.has(deviceId)) log.warn({ deviceId, kind }, `device ${deviceId} is no longer registered: it stays offline`);
      reportedRemoved.add(deviceId);
      return undefined;
    }
    const credential = credentials.find((known) => known.deviceId === deviceId);
    if (credential) credential.secret = rotated.secret;
    await save();
    log.warn({ deviceId, kind }, `device ${deviceId}'s secret was refused (rotated?): re-provisioned it with a new secret`);
    return rotated.secret;
  };
}

/** How often the demo looks at what its labels show, to keep the label display file current. */
const DISPLAY_LOOK_EVERY_MS = 1_000;

/** The label display file of the last run; a broken one is set aside with a warning: the labels start from the planogram. */
async function keptLabelDisplays(file: string, log: { warn(fields: object, message: string): void }): Promise<LabelDisplays> {
  try {
    return await readLabelDisplays(file);
  } catch (error) {
    if (!(error instanceof LabelDisplayFileError)) throw error;
    log.warn({ file, problems: error.problems }, "label display file unreadable: the labels start from the planogram's prices");
    return { labels: {} };
  }
}

/** What each direct MQTT label shows now. */
function directLabelDisplays(simulation: StoreSimulation): Record<string, KeptDisplay> {
  return Object.fromEntries(simulation.labels.map((label) => [label.deviceId, { sku: label.sku, priceCents: label.displayedPriceCents }]));
}

/** One write at a time, the latest state last: the credentials file is rewritten whole, atomically. */
function serialWriter(write: () => Promise<void>): () => Promise<void> {
  let last: Promise<void> = Promise.resolve();
  return () => {
    last = last.catch(() => undefined).then(write);
    return last;
  };
}

/** The OPC UA case simulator on the port the demo config's case names; the demo goes on without it if the port is taken. */
async function startDemoCase(
  devices: readonly { kind: string; endpointUrl: string }[],
  log: { warn(fields: object, message: string): void },
): Promise<OpcuaCaseSimulator | undefined> {
  const demoCase = devices.find((device) => device.kind === 'case');
  if (!demoCase) return undefined;
  const simulator = new OpcuaCaseSimulator({ port: Number(new URL(demoCase.endpointUrl).port), temperatureC: 3.5 });
  try {
    await simulator.start();
    return simulator;
  } catch (error) {
    log.warn(
      { endpointUrl: demoCase.endpointUrl, err: (error as Error).message },
      'refrigerated case simulator not started; the demo goes on without it',
    );
    return undefined;
  }
}

/** A signal came while the demo was still starting: what has started is stopped, nothing more is started. */
class DemoInterruptedError extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal} while starting`);
    this.name = 'DemoInterruptedError';
  }
}

/**
 * The whole stop has this long (each gateway module has its own limit inside it); past it the demo exits anyway, so a
 * person or a service manager sending SIGTERM never finds the ports still held.
 */
const STOP_DEADLINE_MS = 20_000;
/** A stop signal this soon after the first is its copy (the terminal's and npm's), not someone asking again. */
const SIGNAL_REPEAT_MS = 1_000;

/** The parts the demo started, stopped in reverse order: on a signal, and as well when starting fails half-way. */
class StartedParts {
  private readonly stops: Array<{ part: string; stop: () => unknown }> = [];

  add(part: string, stop: () => unknown): void {
    this.stops.push({ part, stop });
  }

  async stopAll(log: { error(fields: object, message: string): void } | undefined): Promise<void> {
    for (let next = this.stops.pop(); next; next = this.stops.pop()) {
      try {
        await next.stop();
      } catch (error) {
        if (log) log.error({ part: next.part, err: error }, `demo: stopping ${next.part} failed`);
        else process.stderr.write(`demo: stopping ${next.part} failed: ${(error as Error).message}\n`);
      }
    }
  }
}

/**
 * Runs the demo until SIGINT or SIGTERM (Ctrl+C, `kill`, or npm passing either on), then stops it in order. The signal
 * handlers come first: a signal while the demo starts stops it after the step under way instead of killing the process
 * between two writes (Node's default), which left the gateway's WAL behind.
 */
async function main(): Promise<void> {
  const parts = new StartedParts();
  let signalled: NodeJS.Signals | undefined;
  let onStopSignal: (signal: NodeJS.Signals) => void = () => undefined;
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => (onStopSignal = resolve));
  let signalledAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    // Ctrl+C in a terminal signals the whole process group, and npm passes its copy on too: the node process gets the
    // same SIGINT twice within milliseconds. That is one request to stop; only a signal after SIGNAL_REPEAT_MS is a
    // second one (before, the first Ctrl+C exited at once and left the data dir's lock and WAL behind).
    if (signalled && Date.now() - signalledAt < SIGNAL_REPEAT_MS) return;
    if (signalled) {
      process.stderr.write(`demo: second ${signal}, exiting now\n`);
      process.exit(130);
    }
    signalled = signal;
    signalledAt = Date.now();
    setTimeout(() => {
      process.stderr.write(`demo: not stopped within ${STOP_DEADLINE_MS / 1000} s of ${signal}, exiting now\n`);
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
    onStopSignal(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const goOn = () => {
    if (signalled) throw new DemoInterruptedError(signalled);
  };
  let log: ReturnType<typeof createLogger> | undefined;
  try {
    log = await runDemo(parts, goOn);
    const signal = await stopSignal;
    log.info({ signal }, 'stopping demo');
  } catch (error) {
    if (!(error instanceof DemoInterruptedError)) {
      await parts.stopAll(log);
      throw error;
    }
    log?.info({ signal: error.signal }, 'stopping demo (it was still starting)');
  }
  await parts.stopAll(log);
}

/** Starts everything, registering each part's stop as it goes; returns the demo's logger once the store runs. */
async function runDemo(parts: StartedParts, goOn: () => void): Promise<ReturnType<typeof createLogger>> {
  const hqUrl = process.env.SMARTSTORE_HQ_URL;
  const config = await loadConfig({
    file: process.env.SMARTSTORE_DEMO_CONFIG || DEMO_CONFIG,
    env: process.env,
    ...(hqUrl ? { overrides: { hq: { enabled: true, url: hqUrl } } } : {}),
  });
  const logger = createLogger(config.log);
  const log = logger.child({ component: 'demo' });
  // the demo's refrigerated case (config/demo.yaml, opcua.devices) runs before the gateway, so it connects at once
  const caseSimulator = await startDemoCase(config.opcua.devices, log);
  if (caseSimulator) parts.add('refrigerated case simulator', () => caseSimulator.stop());
  const stopCaseScenario = caseSimulator ? demoCaseScenario(caseSimulator) : () => undefined;
  parts.add('refrigerated case scenario', stopCaseScenario);
  goOn();
  // the demo's OPC UA user (config/demo.yaml reads its password from this variable): fresh each run, printed below
  process.env.SMARTSTORE_OPCUA_DEMO_PASSWORD ||= randomBytes(12).toString('base64url');
  // the labels: which carrier each one has follows from the planogram's labels section
  const planogramFile = config.planogram.file as string;
  const planogram = await loadPlanogramFile(planogramFile);
  const planogramIndex = new PlanogramIndex(planogram);
  const labelPlan = planDemoLabels(parsePlanogramLabels(await readPlanogramText(planogramFile), planogramFile), planogramIndex);
  const seed = Number(process.env.DEMO_SEED ?? Date.now() % 100_000);
  // what the labels showed when the demo last stopped: they show it again (label-display-file.ts)
  const displayFile = join(config.dataDir, LABEL_DISPLAY_FILE);
  const kept = await keptLabelDisplays(displayFile, log);
  const keptDisplay = (labelId: string) => (Object.hasOwn(kept.labels, labelId) ? kept.labels[labelId] : undefined);
  const accessPoints = new DemoAccessPoints({
    plan: labelPlan,
    priceOf: (sku) => planogramIndex.product(sku)?.priceCents ?? null,
    oeplUrl: config.labels.accessPoints[0]?.url ?? null,
    logger: logger.child({}, { level: 'warn' }),
    random: seededRandom(seed + 1),
    kept: keptDisplay,
  });
  // before the gateway, so the OEPL driver finds its AP at once; the demo goes on without it if the port is taken
  await accessPoints
    .startOepl()
    .catch((error: unknown) =>
      log.warn({ err: (error as Error).message }, 'OpenEPaperLink AP simulator not started; its labels stay offline'),
    );
  goOn();
  // a fresh token named "demo manager" for this run (the previous run's is revoked): what the printed link signs in with;
  // a manager, so the demo's staff page can also upload price campaigns. Made by the access room as it starts, so the
  // gateway's start counts it (made after, it followed a false "no API tokens" warning)
  const managerToken = newApiToken();
  const built = buildGateway(config, {
    log: logger,
    tokenAtStart: { name: 'demo manager', role: 'manager', digest: tokenDigest(managerToken) },
  });
  // added before the start: a gateway that fails half-way through its start stops what it started
  parts.add('gateway', async () => {
    await built.gateway.stop();
    const written = built.storage.lastStop?.written ?? 0;
    log.info({ written }, `demo stopped, ${written} writes flushed`);
  });
  const displayKeeper = new LabelDisplayKeeper({
    file: displayFile,
    // labels not simulated this run (an AP that did not start) keep what the file had; called once the store runs
    snapshot: () => ({ labels: { ...kept.labels, ...accessPoints.displays(), ...directLabelDisplays(simulation) } }),
    everyMs: DISPLAY_LOOK_EVERY_MS,
    log,
  });
  // written after the labels stopped: the file holds what they showed last
  parts.add('label display file', () => displayKeeper.stop());
  // stopped before the gateway: the MQTT access point says goodbye while the broker still listens
  parts.add('access point simulators', () => accessPoints.stop());
  await built.gateway.start();
  goOn();

  const credentialsFile = join(config.dataDir, 'demo-credentials.json');
  const brokerUrl = `mqtt://127.0.0.1:${built.broker.port}`;
  const labelDevices = [
    ...labelPlan.direct.map((label) => ({ deviceId: label.label, kind: 'esl' as const })),
    ...(labelPlan.behindMqttAp.length > 0 ? [{ deviceId: DEMO_AP_ID, kind: 'ap' as const }] : []),
  ];
  const credentials = await demoCredentials(built, credentialsFile, demoDeviceIds(planogram, undefined, labelDevices), log);
  const saveCredentials = serialWriter(() =>
    writeCredentialsFile(credentialsFile, { storeId: config.storeId, brokerUrl, devices: credentials }),
  );
  await saveCredentials();
  const renewSecret = demoSecretRenewal({ built, credentials, save: saveCredentials, log });

  // the insight room's new alert kinds, each within a few minutes (config/demo.yaml's insight section)
  const missingFaults = missingFaultFacings(DEMO_INSIGHT_FAULTS, (shelfId, facing) => planogramIndex.facing(shelfId, facing) !== undefined);
  if (missingFaults.length > 0)
    log.warn({ missing: missingFaults }, 'planogram lacks the insight demo facings: the demo runs without its faults');
  const insightFaults = missingFaults.length === 0 ? DEMO_INSIGHT_FAULTS : undefined;
  const simulation = new StoreSimulation({
    brokerUrl,
    storeId: config.storeId,
    planogram,
    credentials,
    logger: logger.child({}, { level: 'warn' }),
    random: seededRandom(seed),
    labelPriceCents: (sku) => accessPoints.shownPriceCents(sku),
    shownAtStart: (labelId, sku) => {
      const display = keptDisplay(labelId);
      return display?.sku === sku ? display.priceCents : undefined;
    },
    renewSecret,
    timing: { checkoutDelayMs: DEMO_CHECKOUT_DELAY_MS },
    ...(insightFaults ? { insightFaults } : {}),
  });
  // before the gateway's stop (added later, stopped earlier): devices say goodbye while the broker still listens
  parts.add('store simulation', () => simulation.stop());
  await simulation.start();
  goOn();
  // the store simulation logs at warn, so say here that the MQTT case is in: its alerts are what staff see of it
  for (const simulated of simulation.cases) {
    const { deviceId } = simulated;
    log.info({ deviceId, mqtt: brokerUrl }, `refrigerated case ${deviceId} connected over MQTT (limits: coldChain.cases)`);
  }
  if (insightFaults) {
    const { misplaced, stuck, fast, blocked } = insightFaults;
    log.info(
      { misplaced: misplaced.facing, stuckCell: stuck.facing, fastSeller: fast.facing, blocked: blocked.facing },
      `insight demo: ${misplaced.facing}'s product sells from a second placement (phantom-stock within a minute), ` +
        `${stuck.facing}'s load cell sticks after ${stuck.fromMs / 1000} s (scale-stuck), ${fast.facing} sells fast ` +
        `(stock-out-predicted before low stock), ${blocked.facing} is blocked after ${blocked.fromMs / 1000} s (no-sales)`,
    );
  }
  const apSecret = credentials.find((credential) => credential.deviceId === DEMO_AP_ID)?.secret;
  if (apSecret) await accessPoints.startMqttAp({ brokerUrl, storeId: config.storeId, secret: apSecret, renewSecret });
  goOn();
  displayKeeper.start(kept);

  const pageUrl = `http://127.0.0.1:${built.http.port}/#token=${managerToken}`;
  log.info(
    { url: pageUrl, mqtt: brokerUrl, devices: credentials.length, credentialsFile },
    `demo store running — staff page: ${pageUrl} (Ctrl+C stops)`,
  );
  log.info(
    {
      direct: labelPlan.direct.length,
      behindMqttAp: labelPlan.behindMqttAp.length,
      behindOepl: labelPlan.behindOepl.length,
      oeplAp: accessPoints.oepl?.url,
    },
    `shelf labels: ${labelPlan.direct.length} direct MQTT, ${labelPlan.behindMqttAp.length} behind MQTT access point ${DEMO_AP_ID}, ` +
      `${labelPlan.behindOepl.length} behind the OpenEPaperLink AP ${accessPoints.oepl?.url ?? '(none)'} — ` +
      "each label's state: GET /api/labels",
  );
  const opcuaEndpoint = built.opcuaServer.endpointUrl;
  if (opcuaEndpoint) {
    const pki = join(config.dataDir, 'opcua-pki');
    log.info(
      { endpoint: opcuaEndpoint, user: 'demo', pki },
      `OPC UA server: ${opcuaEndpoint} — user "demo", password "${process.env.SMARTSTORE_OPCUA_DEMO_PASSWORD}", SignAndEncrypt ` +
        '(Basic256Sha256 or Aes256_Sha256_RsaPss); ' +
        `trust your client by moving its certificate from ${pki}/rejected/ to ${pki}/trusted/certs/`,
    );
  }
  return log;
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    if (error instanceof ConfigError || error instanceof DemoLabelsError) process.stderr.write(`demo: ${error.message}\n`);
    else process.stderr.write(`demo failed: ${(error as Error).message ?? String(error)}\n`);
    process.exit(1);
  },
);
