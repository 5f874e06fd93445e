#!/usr/bin/env node
/**
 * `npm run demo`: the gateway on embedded defaults plus a simulated store (4 shelves × 6 facings, 24 labels,
 * 2 kiosks) publishing over real MQTT with their own credentials. Credentials persist in <dataDir>/demo-credentials.json
 * so a restarted demo reconnects the same devices.
 */
import { randomBytes } from 'node:crypto';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../edge/config/gateway-config.js';
import { loadConfig } from '../edge/config/load-config.js';
import { createLogger } from '../edge/core/logger.js';
import { buildGateway, type StoreGateway } from '../edge/main.js';
import { readCredentialsFile, writeCredentialsFile, type DeviceCredential } from './credentials-file.js';
import { loadPlanogramFile } from '../edge/planogram/planogram-file.js';
import { seededRandom } from './random.js';
import { StoreSimulation, demoDeviceIds } from './store-simulation.js';

const DEMO_CONFIG = new URL(import.meta.url.includes('/dist/') ? '../../config/demo.yaml' : '../config/demo.yaml', import.meta.url).pathname;

class DemoSetupError extends Error {}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Reuses the demo's saved secrets; provisions devices that are new. */
async function demoCredentials(built: StoreGateway, file: string, wanted: { deviceId: string; kind: DeviceCredential['kind'] }[]): Promise<DeviceCredential[]> {
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
      throw new DemoSetupError(`device ${deviceId} is registered but its demo secret is lost: delete ${built.config.dataDir} to start the demo afresh`);
    }
    credentials.push({ deviceId, kind, secret: await built.devices.registry.provision(deviceId, kind) });
  }
  return credentials;
}

async function main(): Promise<void> {
  const apiToken = process.env.SMARTSTORE_API_TOKEN || randomBytes(18).toString('base64url');
  const config = await loadConfig({ file: DEMO_CONFIG, env: { ...process.env, SMARTSTORE_API_TOKEN: apiToken } });
  const logger = createLogger(config.log);
  const log = logger.child({ component: 'demo' });
  const built = buildGateway(config, { log: logger });
  await built.gateway.start();

  const planogram = await loadPlanogramFile(config.planogram.file as string);
  const credentialsFile = join(config.dataDir, 'demo-credentials.json');
  const brokerUrl = `mqtt://127.0.0.1:${built.broker.port}`;
  const credentials = await demoCredentials(built, credentialsFile, demoDeviceIds(planogram));
  await writeCredentialsFile(credentialsFile, { storeId: config.storeId, brokerUrl, devices: credentials });

  const simulation = new StoreSimulation({
    brokerUrl,
    storeId: config.storeId,
    planogram,
    credentials,
    logger: logger.child({}, { level: 'warn' }),
    random: seededRandom(Number(process.env.DEMO_SEED ?? Date.now() % 100_000)),
  });
  await simulation.start();

  const pageUrl = `http://127.0.0.1:${built.http.port}/#token=${apiToken}`;
  log.info({ url: pageUrl, mqtt: brokerUrl, devices: credentials.length, credentialsFile }, `demo store running — staff page: ${pageUrl} (Ctrl+C stops)`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) process.exit(130);
    stopping = true;
    log.info({ signal }, 'stopping demo');
    await simulation.stop();
    await built.gateway.stop();
    log.info({ written: built.storage.lastStop?.written ?? 0 }, `demo stopped, ${built.storage.lastStop?.written ?? 0} writes flushed`);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof DemoSetupError) process.stderr.write(`demo: ${error.message}\n`);
  else process.stderr.write(`demo failed: ${(error as Error).message ?? String(error)}\n`);
  process.exit(1);
});
