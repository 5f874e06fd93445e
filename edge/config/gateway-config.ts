/** The validated gateway configuration (shape of config/schema.json). */
export type GatewayConfig = {
  storeId: string;
  dataDir: string;
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'; pretty: boolean };
  mqtt: {
    host: string;
    port: number;
    maxConnections: number;
    maxPacketBytes: number;
    connectTimeoutMs: number;
    maxKeepaliveSec: number;
    drainTimeoutMs: number;
    maxAuthFailuresPerMinute: number;
  };
  http: { host: string; port: number; apiToken: string | null; bodyLimitBytes: number; maxSseClients: number };
  planogram: { file: string | null };
  lowStock: { smoothingWindow: number; debounceMs: number; staleAfterMs: number; rearmAfterMs: number; sensorToleranceG: number };
  commands: { ackTimeoutMs: number };
  storage: { flushIntervalMs: number; maxHistoryRows: number; maxPendingWrites: number };
  security: { scryptCost: number };
  hq: { enabled: boolean; url: string | null; username?: string | null; password?: string | null };
};

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly issues: string[],
  ) {
    super(`invalid configuration (${source}):\n${issues.map((issue) => `  - ${issue}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}
