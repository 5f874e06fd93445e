#!/usr/bin/env node
/**
 * The gateway's command line: run it, check a config file, provision devices. Parsing and wiring only.
 */
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { PlanogramFileError } from './planogram/planogram-file.js';
import { ConfigError, type GatewayConfig } from './config/gateway-config.js';
import { loadConfig, redactConfig } from './config/load-config.js';
import { DeviceRegistry } from './devices/device-registry.js';
import { DEVICE_KINDS, type DeviceKind } from './devices/topics.js';
import { GatewayStartError } from './core/module.js';
import { createLogger } from './core/logger.js';
import { buildGateway } from './main.js';
import { SqliteDatabase } from './storage/database.js';
import { DeviceStore } from './devices/device-store.js';
import { migrate } from './storage/migrate.js';

/** Exit codes store IT can script against. */
export const EXIT = { ok: 0, startFailed: 1, badConfig: 2, interrupted: 130 } as const;

function explainStartError(error: unknown, config: GatewayConfig): string {
  const cause = (error instanceof GatewayStartError ? error.cause : error) as NodeJS.ErrnoException | undefined;
  const part = error instanceof GatewayStartError ? error.component : 'gateway';
  if (cause?.code === 'EADDRINUSE') {
    const port = part === 'broker' ? config.mqtt.port : config.http.port;
    return `${part}: port ${port} is already in use — stop the other process or choose another port (SMARTSTORE_${part === 'broker' ? 'MQTT' : 'HTTP'}_PORT)`;
  }
  if (cause?.code === 'EACCES') return `${part}: permission denied (${cause.message}) — ports below 1024 need privileges; check dataDir permissions`;
  if (cause?.code === 'SQLITE_CANTOPEN') return `storage: cannot open the database under ${config.dataDir} (${cause.message})`;
  return `${part}: ${cause?.message ?? String(error)}`;
}

async function configOrExit(file: string | undefined): Promise<GatewayConfig> {
  try {
    return await loadConfig({ file });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(EXIT.badConfig);
    }
    throw error;
  }
}

async function run(options: { config?: string }): Promise<void> {
  const config = await configOrExit(options.config);
  const log = createLogger(config.log);
  const built = buildGateway(config, { log });
  log.info({ component: 'gateway', config: redactConfig(config) }, 'starting');
  if (!config.http.apiToken) log.warn({ component: 'gateway' }, 'no API token configured: write routes answer 403 (set SMARTSTORE_API_TOKEN)');
  try {
    await built.gateway.start();
  } catch (error) {
    // a missing or invalid planogram file is configuration, like the config file itself
    const badPlanogram = error instanceof GatewayStartError && error.cause instanceof PlanogramFileError;
    log.fatal({ component: 'gateway' }, badPlanogram ? (error.cause as PlanogramFileError).message : explainStartError(error, config));
    log.flush?.();
    process.exitCode = badPlanogram ? EXIT.badConfig : EXIT.startFailed;
    return;
  }
  log.info({ component: 'gateway', mqttPort: built.broker.port, httpPort: built.http.port, storeId: config.storeId }, 'gateway running');

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      log.warn({ component: 'gateway', signal }, 'second signal: exiting now');
      process.exit(EXIT.interrupted);
    }
    stopping = true;
    log.info({ component: 'gateway', signal }, 'stopping');
    built.gateway.stop().then(
      () => {
        log.info({ component: 'gateway' }, 'stopped');
        process.exitCode = EXIT.ok;
      },
      (error: unknown) => {
        log.error({ component: 'gateway', err: error }, 'stopped with errors');
        process.exitCode = EXIT.startFailed;
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

async function checkConfig(file: string): Promise<void> {
  const config = await configOrExit(file);
  process.stdout.write(`${file}: ok\n${JSON.stringify(redactConfig(config), null, 2)}\n`);
}

async function withRegistry<T>(configFile: string | undefined, work: (registry: DeviceRegistry) => Promise<T>): Promise<T> {
  const config = await configOrExit(configFile);
  const db = new SqliteDatabase(join(config.dataDir, 'gateway.db'));
  await db.open();
  try {
    await migrate(db);
    const registry = new DeviceRegistry(new DeviceStore(db), { scryptCost: config.security.scryptCost, now: Date.now });
    await registry.start();
    return await work(registry);
  } finally {
    await db.close();
  }
}

const program = new Command('smartstore-edge').description('smartstore-edge store gateway').showHelpAfterError();

program
  .command('run')
  .description('run the gateway')
  .option('-c, --config <file>', 'YAML config merged over config/default.yaml')
  .action(run);

program.command('check-config').description('validate a config file and print the result').argument('<file>').action(checkConfig);

const device = program.command('device').description('device registry');
device
  .command('add')
  .description('register a device and print its secret (shown once); works while the gateway runs')
  .argument('<id>', 'device id = MQTT client id and username')
  .addOption(new Option('-k, --kind <kind>', 'device kind').choices([...DEVICE_KINDS]).makeOptionMandatory())
  .option('-c, --config <file>', 'gateway config (for dataDir)')
  .action(async (id: string, options: { kind: DeviceKind; config?: string }) => {
    const secret = await withRegistry(options.config, (registry) => registry.provision(id, options.kind));
    process.stdout.write(`${JSON.stringify({ id, kind: options.kind, secret })}\n`);
  });
device
  .command('list')
  .option('-c, --config <file>', 'gateway config (for dataDir)')
  .action(async (options: { config?: string }) => {
    const devices = await withRegistry(options.config, async (registry) => registry.list());
    for (const d of devices) process.stdout.write(`${d.id}\t${d.kind}\t${d.disabled ? 'disabled' : 'enabled'}\n`);
  });

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`smartstore-edge: ${(error as Error).message ?? String(error)}\n`);
  process.exit(EXIT.startFailed);
});
