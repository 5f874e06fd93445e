import { join, resolve } from 'node:path';
import type { GatewayConfig } from '../config/gateway-config.js';
import { ConfigError } from '../config/gateway-config.js';
import { loadConfig } from '../config/load-config.js';
import { DATABASE_FILE } from '../storage/module.js';
import { EXIT, type CliIo, type ExitCode } from './io.js';

/** The config a command uses, with the paths it resolved, so that it can say which database it works on. */
export type ResolvedConfig = {
  /** dataDir and planogram.file made absolute */
  config: GatewayConfig;
  /** the file merged over the defaults, absolute, and how it was chosen */
  file: { path: string; from: '--config' | 'SMARTSTORE_CONFIG' } | undefined;
  /** SMARTSTORE_* variables that were set (names only: some hold secrets) */
  envOverrides: string[];
  databaseFile: string;
};

/**
 * Resolves the configuration exactly as `run` does, for every command: the schema's defaults, then `--config FILE`
 * (or SMARTSTORE_CONFIG when no --config is given), then SMARTSTORE_* variables. Relative paths are resolved against
 * the working directory once, here, so the gateway and the CLI started from the same place find the same database.
 * Throws ConfigError listing every problem.
 */
export async function resolveConfig(configFlag: string | undefined, io: CliIo): Promise<ResolvedConfig> {
  const fromEnv = io.env.SMARTSTORE_CONFIG || undefined;
  const file = configFlag
    ? { path: resolve(io.cwd, configFlag), from: '--config' as const }
    : fromEnv
      ? { path: resolve(io.cwd, fromEnv), from: 'SMARTSTORE_CONFIG' as const }
      : undefined;
  const loaded = await loadConfig({ file: file?.path, env: io.env });
  const dataDir = resolve(io.cwd, loaded.dataDir);
  const config: GatewayConfig = {
    ...loaded,
    dataDir,
    planogram: { ...loaded.planogram, file: loaded.planogram.file === null ? null : resolve(io.cwd, loaded.planogram.file) },
  };
  const envOverrides = Object.keys(io.env)
    .filter((name) => name.startsWith('SMARTSTORE_') && name !== 'SMARTSTORE_CONFIG' && io.env[name])
    .sort();
  return { config, file, envOverrides, databaseFile: join(dataDir, DATABASE_FILE) };
}

/** One line for stderr: which config and which data dir — the first thing to compare when two tools disagree. */
export function describeResolved(resolved: ResolvedConfig): string {
  const sources = [
    'defaults',
    ...(resolved.file ? [`${resolved.file.path} (${resolved.file.from})`] : []),
    ...(resolved.envOverrides.length > 0 ? [`env ${resolved.envOverrides.join(', ')}`] : []),
  ];
  return `config: ${sources.join(' + ')}; data dir: ${resolved.config.dataDir}\n`;
}

/**
 * What every command does first: resolve the config and say on stderr which one and which data dir; a bad config is
 * printed (one problem per line) and answered with the exit code to return.
 */
export async function resolveConfigOrReport(configFlag: string | undefined, io: CliIo): Promise<ResolvedConfig | ExitCode> {
  let resolved: ResolvedConfig;
  try {
    resolved = await resolveConfig(configFlag, io);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr.write(`${error.message}\n`);
    return EXIT.badConfig;
  }
  io.stderr.write(describeResolved(resolved));
  return resolved;
}
