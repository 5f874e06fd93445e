import { pino, type Logger } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { REDACTED, redactSecrets, redactUrlCredentials } from './log-redaction.js';

export type { Logger };

export type LoggerOptions = { level: string; pretty: boolean };

/** Where log lines go: stdout unless told otherwise (tests, the CLI's own streams). */
export type LogOutput = {
  /** receives one line per write; default: stdout */
  destination?: { write(line: string): unknown };
  /** whether the destination is a terminal; default: process.stdout.isTTY */
  isTTY?: boolean;
  env?: NodeJS.ProcessEnv;
};

/** Field paths that may carry secrets: pino replaces them before the line is written. */
const REDACT_PATHS = [
  'password',
  'secret',
  'apiToken',
  'token',
  '*.password',
  '*.secret',
  '*.apiToken',
  'req.headers.authorization',
  'headers.authorization',
];

/**
 * Colours only for a person at a terminal: a log file or journald gets no escape codes. NO_COLOR (any non-empty
 * value, https://no-color.org) turns them off even there.
 */
export function useColour(isTTY: boolean | undefined, env: NodeJS.ProcessEnv): boolean {
  return isTTY === true && !env.NO_COLOR;
}

export function createLogger(options: LoggerOptions, output: LogOutput = {}): Logger {
  const settings = {
    level: options.level,
    base: { service: 'smartstore-edge' },
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    // at any depth, also inside errors' context (the paths above only know fixed places); child bindings: below
    formatters: { log: (object: Record<string, unknown>) => redactSecrets(object) },
    // URL userinfo wherever it is (message, error text and stack, bindings, any field): the finished line is one
    // place that sees them all; lines without '@' and '://' are not scanned
    hooks: { streamWrite: redactUrlCredentials },
  };
  if (!options.pretty) return redactingChildBindings(output.destination ? pino(settings, output.destination) : pino(settings));
  const target = output.destination ?? process.stdout;
  const colorize = useColour(output.isTTY ?? (output.destination ? false : process.stdout.isTTY), output.env ?? process.env);
  // formatted in the writing thread, synchronously: a line logged just before the process exits is not lost, and
  // a person's terminal is never the bottleneck of a gateway that logs no line per message
  const pretty = prettyFactory({ colorize, singleLine: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,service' });
  return redactingChildBindings(pino(settings, { write: (line: string) => void target.write(pretty(line)) }));
}

/**
 * pino formats a child's bindings without the root's formatters; children are created from their parent's prototype
 * chain, so one `child` on the root covers every descendant.
 */
function redactingChildBindings(root: Logger): Logger {
  // called with the logger it is called on (`child.call(this, …)`): binding it to the root would parent every child there
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const child = root.child;
  root.child = function redactedChild(this: Logger, bindings, childOptions) {
    return child.call(this, redactSecrets(bindings), childOptions);
  } as Logger['child'];
  return root;
}
