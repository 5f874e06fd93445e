import { pino, type Logger } from 'pino';

export type { Logger };

export type LoggerOptions = { level: string; pretty: boolean };

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

export function createLogger(options: LoggerOptions): Logger {
  return pino({
    level: options.level,
    base: { service: 'smartstore-edge' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    ...(options.pretty
      ? { transport: { target: 'pino-pretty', options: { colorize: true, singleLine: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,service' } } }
      : {}),
  });
}
