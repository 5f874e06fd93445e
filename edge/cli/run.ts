import type { GatewayConfig } from '../config/gateway-config.js';
import { redactConfig } from '../config/load-config.js';
import { redactUrlCredentials } from '../core/log-redaction.js';
import { createLogger } from '../core/logger.js';
import { GatewayStartError } from '../core/module.js';
import { buildGateway } from '../main.js';
import { PlanogramFileError } from '../planogram/planogram-file.js';
import { DataDirLockedError } from '../storage/data-dir-lock.js';
import { StoreIdentityError } from '../storage/store-identity.js';
import { resolveConfigOrReport } from './config.js';
import { EXIT, problemReport, type CliIo, type ExitCode } from './io.js';

/**
 * Why the gateway did not start, for both audiences: `report` for the person at the terminal (stderr, one problem a
 * line), `message` and `fields` for the one structured fatal log line (no line breaks in it, problems as an array).
 */
export type StartFailure = { exitCode: ExitCode; report: string; message: string; fields: Record<string, unknown> };

export function explainStartFailure(error: unknown, config: GatewayConfig): StartFailure {
  const cause = error instanceof GatewayStartError ? error.cause : error;
  const part = error instanceof GatewayStartError ? error.component : 'gateway';
  const fail = (message: string, fields: Record<string, unknown> = {}): StartFailure => ({
    exitCode: EXIT.failed,
    report: `${message}\n`,
    message,
    fields,
  });
  // the planogram file is configuration, like the config file itself: exit 2
  if (cause instanceof PlanogramFileError) {
    const [only] = cause.problems;
    const message = `invalid planogram (${cause.path})${cause.problems.length === 1 ? `: ${only}` : `: ${cause.problems.length} problems`}`;
    return {
      exitCode: EXIT.badConfig,
      report: problemReport('planogram', cause.path, cause.problems),
      message,
      fields: { file: cause.path, problems: cause.problems },
    };
  }
  if (cause instanceof DataDirLockedError) return fail(cause.message, { lockFile: cause.lockFile, pid: cause.pid });
  if (cause instanceof StoreIdentityError) return fail(`storage: ${cause.message}`, { file: cause.file, problem: cause.problem });
  const errno = cause as NodeJS.ErrnoException | undefined;
  if (errno?.code === 'EADDRINUSE') {
    const port = part === 'broker' ? config.mqtt.port : config.http.port;
    const variable = `SMARTSTORE_${part === 'broker' ? 'MQTT' : 'HTTP'}_PORT`;
    return fail(`${part}: port ${port} is already in use — stop the other process or choose another port (${variable})`);
  }
  if (errno?.code === 'EACCES')
    return fail(`${part}: permission denied (${errno.message}) — ports below 1024 need privileges; check dataDir permissions`);
  if (errno?.code === 'SQLITE_CANTOPEN') return fail(`storage: cannot open the database under ${config.dataDir} (${errno.message})`);
  // anything else: the whole text for people, its first line as the log message and the rest as an array
  const text = errno?.message ?? String(error);
  const [first, ...more] = text.split('\n');
  const fields = more.length > 0 ? { problems: more.map((line) => line.trim()).filter(Boolean) } : {};
  return { exitCode: EXIT.failed, report: `${part}: ${text}\n`, message: `${part}: ${first ?? ''}`, fields };
}

/**
 * `run`: starts the gateway and resolves with the exit code once it has stopped (first SIGINT/SIGTERM: stop in
 * order, flushing writes; a second: at once, 130).
 */
export async function runGateway(options: { config?: string; reinit?: boolean }, io: CliIo): Promise<ExitCode> {
  const resolved = await resolveConfigOrReport(options.config, io);
  if (typeof resolved === 'number') return resolved;
  const { config } = resolved;
  const log = createLogger(config.log, { destination: io.stdout, isTTY: io.stdout.isTTY, env: io.env });
  const built = buildGateway(config, { log, reinit: options.reinit ?? false });

  // Listening before the start: a SIGTERM while starting stops the gateway once it has started, instead of killing
  // the process halfway (before a listener exists, Node's default for SIGTERM is to die on the spot).
  let stopRequested: NodeJS.Signals | undefined;
  let started = false;
  let finish: (code: ExitCode) => void = () => undefined;
  const finished = new Promise<ExitCode>((resolve) => (finish = resolve));
  const stop = (signal: NodeJS.Signals) => {
    log.info({ component: 'gateway', signal }, 'stopping');
    built.gateway.stop().then(
      () => {
        const { written, unwritten } = built.storage.lastStop ?? { written: 0, unwritten: 0 };
        log.info({ component: 'gateway', written, unwritten }, `stopped, ${written} writes flushed`);
        if (unwritten > 0) log.error({ component: 'gateway', unwritten }, `${unwritten} changes could not be written and are lost`);
        finish(unwritten > 0 ? EXIT.failed : EXIT.ok);
      },
      (error: unknown) => {
        log.error({ component: 'gateway', err: error }, 'stopped with errors');
        finish(EXIT.failed);
      },
    );
  };
  const stopListening = io.onSignal((signal) => {
    if (stopRequested) {
      log.warn({ component: 'gateway', signal }, 'second signal: exiting now');
      finish(EXIT.interrupted);
      return;
    }
    stopRequested = signal;
    if (started) stop(signal);
  });

  try {
    log.info({ component: 'gateway', config: redactConfig(config), configFile: resolved.file?.path ?? null }, 'starting');
    // no warning here about http.apiToken: named tokens in the database count too, and the access room, which loads
    // them, warns when there are none at all
    try {
      await built.gateway.start();
    } catch (error) {
      const failure = explainStartFailure(error, config);
      // an error's text may quote a URL with its password (an HQ connection refused): stderr is redacted as the log is
      io.stderr.write(redactUrlCredentials(failure.report));
      log.fatal({ component: 'gateway', ...failure.fields }, failure.message);
      return failure.exitCode;
    }
    started = true;
    log.info(
      { component: 'gateway', mqttPort: built.broker.port, httpPort: built.http.port, storeId: config.storeId, dataDir: config.dataDir },
      'gateway running',
    );
    if (stopRequested) stop(stopRequested);
    return await finished;
  } finally {
    stopListening();
  }
}
