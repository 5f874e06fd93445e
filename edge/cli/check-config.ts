import { resolve } from 'node:path';
import { ConfigError } from '../config/gateway-config.js';
import { loadConfig, redactConfig } from '../config/load-config.js';
import { redactUrlCredentials } from '../core/log-redaction.js';
import { loadPlanogramFile, PlanogramFileError } from '../planogram/planogram-file.js';
import { PlanogramIndex } from '../planogram/planogram.js';
import { EXIT, problemReport, type CliIo, type ExitCode } from './io.js';
import { countOf } from '../core/count-words.js';

/**
 * `check-config FILE`: what `run` would refuse, without starting anything — the config (schema, every problem with
 * its path) and the planogram it names (parses; every facing's sku is a product; restock above low; each shelf/facing
 * once). Problems go to stderr one a line, exit 2; a good file prints the resolved config, exit 0. What it prints
 * shows no secret: secret fields are redacted, and so is a password inside any URL (`hq.url`), in output and problems.
 */
export async function checkConfig(file: string, io: CliIo): Promise<ExitCode> {
  const path = resolve(io.cwd, file);
  let config;
  try {
    config = await loadConfig({ file: path, env: io.env });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr.write(`${redactUrlCredentials(error.message)}\n`);
    return EXIT.badConfig;
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
  io.stdout.write(redactUrlCredentials(`${file}: ok\n${planogramLine}\n${JSON.stringify(redactConfig(config), null, 2)}\n`));
  return EXIT.ok;
}
