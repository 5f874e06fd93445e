/**
 * The relay's outbox and recorder options (`relay.outbox`, `relay.recorder` in the gateway config): declared here, next
 * to the code that reads them, and included by relay-config.ts. Defaults are what a store runs with.
 */
import { Type, type Static } from 'typebox';

const MiB = 1024 * 1024;
const bytes = (description: string) => Type.Integer({ minimum: 64 * 1024, maximum: 1024 * 1024 * MiB, description });

export const OutboxConfigSchema = Type.Object(
  {
    flushIntervalMs: Type.Integer({ minimum: 1, maximum: 1000, description: 'appends wait at most this long for their group commit' }),
    maxBatch: Type.Integer({ minimum: 1, maximum: 10000, description: 'a group commit starts at once when this many rows wait' }),
    maxPendingAppends: Type.Integer({
      minimum: 1,
      maximum: 1000000,
      description: 'appends waiting for a commit beyond this are refused (backpressure), never dropped silently',
    }),
    budgets: Type.Object(
      {
        criticalBytes: bytes('disk budget of critical events (alerts, kiosk transactions); keep headroom for drop reports'),
        operationalBytes: bytes('disk budget of operational events (stock, device health, commands)'),
        telemetryBytes: bytes('disk budget of telemetry events (hourly aggregates)'),
        totalBytes: bytes('all classes together; over it the lowest class is dropped first'),
      },
      { additionalProperties: false },
    ),
    droppedReportIntervalMs: Type.Integer({
      minimum: 0,
      maximum: 3600000,
      description:
        'at most one store.relay.dropped event per interval (drops in between are summed into the next): bounds the reports during a long outage',
    }),
    rateWindowS: Type.Integer({
      minimum: 10,
      maximum: 86400,
      description: 'time constant of the append rate the disk-fill forecast extrapolates',
    }),
  },
  { additionalProperties: false },
);
export type OutboxConfig = Static<typeof OutboxConfigSchema>;

export const OUTBOX_DEFAULTS: OutboxConfig = {
  flushIntervalMs: 10,
  maxBatch: 500,
  maxPendingAppends: 10_000,
  budgets: { criticalBytes: 256 * MiB, operationalBytes: 128 * MiB, telemetryBytes: 64 * MiB, totalBytes: 384 * MiB },
  droppedReportIntervalMs: 1_000,
  rateWindowS: 300,
};

export const RecorderConfigSchema = Type.Object(
  {
    maxOpenBasketsPerKiosk: Type.Integer({ minimum: 1, maximum: 100, description: 'a kiosk opening more evicts its oldest open basket' }),
    maxOpenBaskets: Type.Integer({ minimum: 1, maximum: 100000, description: 'open baskets of all kiosks together' }),
    basketStaleAfterMs: Type.Integer({
      minimum: 60000,
      maximum: 604800000,
      description: 'an open basket without activity this long is forgotten',
    }),
    maxBasketLines: Type.Integer({
      minimum: 1,
      maximum: 10000,
      description: 'scanned lines kept per basket; beyond, the transaction is marked incomplete',
    }),
    maxAggregateFacings: Type.Integer({
      minimum: 1,
      maximum: 1000000,
      description: 'facings with hourly weight aggregates (planogram facings only)',
    }),
    maxStockFacings: Type.Integer({
      minimum: 1,
      maximum: 1000000,
      description: 'facings whose last sent stock is remembered for change-only sending',
    }),
  },
  { additionalProperties: false },
);
export type RecorderConfig = Static<typeof RecorderConfigSchema>;

export const RECORDER_DEFAULTS: RecorderConfig = {
  maxOpenBasketsPerKiosk: 4,
  maxOpenBaskets: 2_000,
  basketStaleAfterMs: 6 * 3_600_000,
  maxBasketLines: 500,
  maxAggregateFacings: 100_000,
  maxStockFacings: 100_000,
};
