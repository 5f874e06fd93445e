import { resolve } from 'node:path';
import { pino } from 'pino';
import { ConfigError } from '../config/gateway-config.js';
import { loadConfig, redactConfig } from '../config/load-config.js';
import { configNotes } from '../config/store-time-zone.js';
import { redactUrlCredentials } from '../core/log-redaction.js';
import { buildGateway } from '../main.js';
import { loadPlanogramFile, PlanogramFileError } from '../planogram/planogram-file.js';
import { PlanogramIndex } from '../planogram/planogram.js';
import { EXIT, problemReport, type CliIo, type ExitCode } from './io.js';
import { countOf } from '../core/count-words.js';

/**
 * `check-config FILE`: what `run` would refuse, without starting anything — the config (schema, every problem with
 * its path) and the planogram it names (parses; every facing's sku is a product; restock above low; each shelf/facing
 * once). Problems go to stderr one a line, exit 2; a good file prints the resolved config, exit 0. What it prints
 * shows no secret: secret fields are redacted, and so is a password inside any URL (`hq.url`), in output and problems.
 * With `--modules` it prints the start order of the modules instead (startOrderText).
 */
export async function checkConfig(file: string, io: CliIo, options: { modules?: boolean } = {}): Promise<ExitCode> {
  const path = resolve(io.cwd, file);
  let config;
  try {
    config = await loadConfig({ file: path, env: io.env });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr.write(`${redactUrlCredentials(error.message)}\n`);
    return EXIT.badConfig;
  }
  if (options.modules) {
    // building is no I/O (no file, port or database is touched): the order comes from the real module graph
    const { gateway } = buildGateway(config, { log: pino({ level: 'silent' }) });
    io.stdout.write(startOrderText(gateway.order));
    return EXIT.ok;
  }
  let planogramLine = 'planogram: none configured (planogram.file)';
  if (config.planogram.file !== null) {
    const planogramFile = resolve(io.cwd, config.planogram.file);
    try {
      const index = new PlanogramIndex(await loadPlanogramFile(planogramFile));
      const { facings, products } = index.planogram;
      const counts = [
        countOf(index.shelfIds().length, 'shelf', 'shelves'),
        countOf(facings.length, 'facing'),
        countOf(products.length, 'product'),
      ];
      planogramLine = `${planogramFile}: ok (${counts.join(', ')})`;
    } catch (error) {
      if (!(error instanceof PlanogramFileError)) throw error;
      io.stderr.write(redactUrlCredentials(problemReport('planogram', error.path, error.problems)));
      return EXIT.badConfig;
    }
  }
  // what still works but should change: after the verdict, before the resolved config
  const notes = configNotes(config)
    .map((note) => `note: ${note}\n`)
    .join('');
  io.stdout.write(redactUrlCredentials(`${file}: ok\n${notes}${planogramLine}\n${JSON.stringify(redactConfig(config), null, 2)}\n`));
  return EXIT.ok;
}

/**
 * `check-config FILE --modules`: the modules in the order the gateway starts them, derived from each module's needs
 * (edge/main.ts); it stops them in the reverse order. The README's list is this text (a test compares them).
 */
export function startOrderText(order: readonly string[]): string {
  const lines = order.map((name, index) => `${String(index + 1).padStart(2)}. ${name}`);
  return `start order (stop: the reverse):\n${lines.join('\n')}\n`;
}
