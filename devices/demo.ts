#!/usr/bin/env node
/**
 * `npm run demo`: the gateway on embedded defaults plus a simulated store (4 shelves × 6 facings, 2 kiosks, a
 * refrigerated case over MQTT (case-drinks; another, case-dairy, over OPC UA), and 24
 * labels: 8 direct MQTT labels, 8 behind a simulated MQTT access point, 8 behind a simulated OpenEPaperLink AP on
 * 127.0.0.1:4842 — see devices/demo-labels.ts) publishing over real MQTT with their own credentials. Credentials persist in
 * <dataDir>/demo-credentials.json so a restarted demo reconnects the same devices.
 */
import { randomBytes } from 'node:crypto';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { newApiToken, tokenDigest } from '../edge/access/api-token.js';
import { TokenNotFoundError } from '../edge/access/token-store.js';
import { ConfigError } from '../edge/config/gateway-config.js';
import { loadConfig } from '../edge/config/load-config.js';
import { createLogger } from '../edge/core/logger.js';
import { buildGateway, type StoreGateway } from '../edge/main.js';
import { readCredentialsFile, writeCredentialsFile, type DeviceCredential } from './credentials-file.js';
import { loadPlanogramFile, parsePlanogramLabels, readPlanogramText } from '../edge/planogram/planogram-file.js';
import { PlanogramIndex } from '../edge/planogram/planogram.js';
import { DEMO_AP_ID, DemoAccessPoints, DemoLabelsError, planDemoLabels } from './demo-labels.js';
import { seededRandom } from './random.js';
import { StoreSimulation, demoDeviceIds } from './store-simulation.js';
// first: it routes node-opcua's process-wide warnings into the gateway's log before the simulator loads node-opcua
// (whose start-up check would otherwise print a raw [NODE-OPCUA-W27] line on stdout)
import '../edge/opcua/opcua-server.js';
import { OpcuaCaseSimulator, demoCaseScenario } from './opcua-case-simulator.js';

const DEMO_CONFIG = new URL(import.meta.url.includes('/dist/') ? '../../config/demo.yaml' : '../config/demo.yaml', import.meta.url)
  .pathname;

class DemoSetupError extends Error {}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Reuses the demo's saved secrets; provisions devices that are new. */
async function demoCredentials(
  built: StoreGateway,
  file: string,
  wanted: { deviceId: string; kind: DeviceCredential['kind'] }[],
): Promise<DeviceCredential[]> {
  const saved = (await exists(file)) ? (await readCredentialsFile(file)).devices : [];
  const byId = new Map(saved.map((c) => [c.deviceId, c]));
  const credentials: DeviceCredential[] = [];
  for (const { deviceId, kind } of wanted) {
    const known = byId.get(deviceId);
    if (known) {
      credentials.push(known);
      continue;
    }
    if (built.devices.registry.get(deviceId)) {
      throw new DemoSetupError(
        `device ${deviceId} is registered but its demo secret is lost: delete ${built.config.dataDir} to start the demo afresh`,
      );
    }
    credentials.push({ deviceId, kind, secret: await built.devices.registry.provision(deviceId, kind) });
  }
  return credentials;
}

/**
 * A fresh token named "demo manager" for this run (the previous run's is revoked): what the printed link signs in with.
 * A manager, so the demo's staff page can also upload price campaigns.
 */
async function demoManagerToken(built: StoreGateway): Promise<string> {
  const name = 'demo manager';
  await built.access.store.revoke(name, Date.now()).catch((error: unknown) => {
    if (!(error instanceof TokenNotFoundError)) throw error;
  });
  const token = newApiToken();
  await built.access.store.add({ name, role: 'manager', digest: tokenDigest(token) }, Date.now());
  await built.access.tokens.load();
  return token;
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

async function main(): Promise<void> {
  // an SMARTSTORE_API_TOKEN from the environment still works, but is never printed: the page link carries a demo
  // staff token made for this run
  // SMARTSTORE_HQ_URL=mqtt://host:1883 relays the demo store's events to that HQ broker (docs/hq.md)
  const hqUrl = process.env.SMARTSTORE_HQ_URL;
  const config = await loadConfig({
    file: DEMO_CONFIG,
    env: process.env,
    ...(hqUrl ? { overrides: { hq: { enabled: true, url: hqUrl } } } : {}),
  });
  const logger = createLogger(config.log);
  const log = logger.child({ component: 'demo' });
  // the demo's refrigerated case (config/demo.yaml, opcua.devices) runs before the gateway, so it connects at once
  const caseSimulator = await startDemoCase(config.opcua.devices, log);
  const stopCaseScenario = caseSimulator ? demoCaseScenario(caseSimulator) : () => undefined;
  // the demo's OPC UA user (config/demo.yaml reads its password from this variable): fresh each run, printed below
  process.env.SMARTSTORE_OPCUA_DEMO_PASSWORD ||= randomBytes(12).toString('base64url');
  // the labels: which carrier each one has follows from the planogram's labels section
  const planogramFile = config.planogram.file as string;
  const planogram = await loadPlanogramFile(planogramFile);
  const planogramIndex = new PlanogramIndex(planogram);
  const labelPlan = planDemoLabels(parsePlanogramLabels(await readPlanogramText(planogramFile), planogramFile), planogramIndex);
  const seed = Number(process.env.DEMO_SEED ?? Date.now() % 100_000);
  const accessPoints = new DemoAccessPoints({
    plan: labelPlan,
    priceOf: (sku) => planogramIndex.product(sku)?.priceCents ?? null,
    oeplUrl: config.labels.accessPoints[0]?.url ?? null,
    logger: logger.child({}, { level: 'warn' }),
    random: seededRandom(seed + 1),
  });
  // before the gateway, so the OEPL driver finds its AP at once; the demo goes on without it if the port is taken
  await accessPoints
    .startOepl()
    .catch((error: unknown) =>
      log.warn({ err: (error as Error).message }, 'OpenEPaperLink AP simulator not started; its labels stay offline'),
    );
  const built = buildGateway(config, { log: logger });
  await built.gateway.start();

  const credentialsFile = join(config.dataDir, 'demo-credentials.json');
  const brokerUrl = `mqtt://127.0.0.1:${built.broker.port}`;
  const labelDevices = [
    ...labelPlan.direct.map((label) => ({ deviceId: label.label, kind: 'esl' as const })),
    ...(labelPlan.behindMqttAp.length > 0 ? [{ deviceId: DEMO_AP_ID, kind: 'ap' as const }] : []),
  ];
  const credentials = await demoCredentials(built, credentialsFile, demoDeviceIds(planogram, undefined, labelDevices));
  await writeCredentialsFile(credentialsFile, { storeId: config.storeId, brokerUrl, devices: credentials });

  const simulation = new StoreSimulation({
    brokerUrl,
    storeId: config.storeId,
    planogram,
    credentials,
    logger: logger.child({}, { level: 'warn' }),
    random: seededRandom(seed),
    labelPriceCents: (sku) => accessPoints.shownPriceCents(sku),
  });
  await simulation.start();
  // the store simulation logs at warn, so say here that the MQTT case is in: its alerts are what staff see of it
  for (const simulated of simulation.cases) {
    const { deviceId } = simulated;
    log.info({ deviceId, mqtt: brokerUrl }, `refrigerated case ${deviceId} connected over MQTT (limits: coldChain.cases)`);
  }
  const apSecret = credentials.find((credential) => credential.deviceId === DEMO_AP_ID)?.secret;
  if (apSecret) await accessPoints.startMqttAp({ brokerUrl, storeId: config.storeId, secret: apSecret });

  const managerToken = await demoManagerToken(built);
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

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) process.exit(130);
    stopping = true;
    log.info({ signal }, 'stopping demo');
    await simulation.stop();
    await accessPoints.stop();
    stopCaseScenario();
    await built.gateway.stop();
    await caseSimulator?.stop();
    log.info({ written: built.storage.lastStop?.written ?? 0 }, `demo stopped, ${built.storage.lastStop?.written ?? 0} writes flushed`);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof DemoSetupError || error instanceof DemoLabelsError)
    process.stderr.write(`demo: ${error.message}\n`);
  else process.stderr.write(`demo failed: ${(error as Error).message ?? String(error)}\n`);
  process.exit(1);
});
