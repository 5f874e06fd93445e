#!/usr/bin/env node
/**
 * `simulate`: runs a simulated store against the gateway's broker until SIGINT/SIGTERM.
 * Parsing and wiring only; the store itself is StoreSimulation.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { pino } from 'pino';
import { CredentialsFileError, readCredentialsFile } from './credentials-file.js';
import { PlanogramFileError, loadPlanogramFile } from '../edge/planogram/planogram-file.js';
import { seededRandom } from './random.js';
import { SimulationSetupError, StoreSimulation } from './store-simulation.js';

type SimulateOptions = { credentials: string; planogram: string; url?: string; speed: number; seed: number; logLevel: string };

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function positiveNumber(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new InvalidArgumentError('must be a positive number');
  return number;
}

function integer(value: string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number)) throw new InvalidArgumentError('must be an integer');
  return number;
}

async function simulate(options: SimulateOptions): Promise<void> {
  const logger = pino({ level: options.logLevel });
  const log = logger.child({ component: 'sim-cli' });

  let simulation: StoreSimulation;
  let brokerUrl: string;
  try {
    const credentials = await readCredentialsFile(options.credentials);
    const planogram = await loadPlanogramFile(options.planogram);
    brokerUrl = options.url ?? credentials.brokerUrl;
    simulation = new StoreSimulation({
      brokerUrl,
      storeId: credentials.storeId,
      planogram,
      credentials: credentials.devices,
      logger,
      random: seededRandom(options.seed),
      speed: options.speed,
    });
  } catch (err) {
    // Bad input files: say what is wrong, every problem, without a stack trace.
    if (err instanceof CredentialsFileError || err instanceof PlanogramFileError || err instanceof SimulationSetupError) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    throw err;
  }

  const stopRequested = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  try {
    await simulation.start();
  } catch (err) {
    log.error({ err, brokerUrl }, 'simulation could not start');
    process.exitCode = 1;
    return;
  }
  const signal = await stopRequested;
  log.info({ signal }, 'stopping simulation');
  // A second signal means "now": do not wait for the devices to disconnect.
  const forceExit = (): never => process.exit(130);
  process.once('SIGINT', forceExit);
  process.once('SIGTERM', forceExit);
  await simulation.stop();
  process.off('SIGINT', forceExit);
  process.off('SIGTERM', forceExit);
}

const program = new Command('simulate')
  .description("simulate a store's shelves, labels and kiosks against the gateway's MQTT broker")
  .requiredOption('--credentials <file>', 'credentials JSON: storeId, brokerUrl and each device secret')
  .requiredOption('--planogram <file>', 'planogram YAML (e.g. config/planogram.demo.yaml)')
  .option('--url <url>', "broker URL (default: the credentials file's brokerUrl)")
  .option('--speed <factor>', 'time speed-up: 2 = shoppers, reports and staff twice as often', positiveNumber, 1)
  .option('--seed <n>', 'random seed: the same seed replays the same shoppers', integer, 42)
  .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info'))
  .action(simulate);

await program.parseAsync();
