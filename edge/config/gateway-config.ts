/** The validated gateway configuration: its type comes from the schema in config-schema.ts. */
export type { GatewayConfig } from './config-schema.js';

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly issues: string[],
  ) {
    super(`invalid configuration (${source}):\n${issues.map((issue) => `  - ${issue}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}
