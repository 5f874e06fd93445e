/**
 * The relay's outbox and recorder options (`relay.outbox`, `relay.recorder` in the gateway config): declared here, next
 * to the code that reads them, and included by relay-config.ts. The defaults (`default:` on each option) are what a
 * store runs with; `configDefaults(OutboxConfigSchema)` gives them whole.
 */
import { Type, type Static } from 'typebox';

const MiB = 1024 * 1024;
const bytes = (description: string, defaultBytes: number) =>
  Type.Integer({ minimum: 64 * 1024, maximum: 1024 * 1024 * MiB, description, default: defaultBytes });

export const OutboxConfigSchema = Type.Object(
  {
    flushIntervalMs: Type.Integer({
      minimum: 1,
      maximum: 1000,
      description: 'appends wait at most this long for their group commit',
      default: 10,
    }),
    maxBatch: Type.Integer({
      minimum: 1,
      maximum: 10000,
      description: 'a group commit starts at once when this many rows wait',
      default: 500,
    }),
    maxPendingAppends: Type.Integer({
      minimum: 1,
      maximum: 1000000,
      description: 'appends waiting for a commit beyond this are refused (backpressure), never dropped silently',
      default: 10_000,
    }),
    budgets: Type.Object(
      {
        criticalBytes: bytes('disk budget of critical events (alerts, kiosk transactions); keep headroom for drop reports', 256 * MiB),
        operationalBytes: bytes('disk budget of operational events (stock, device health, commands)', 128 * MiB),
        telemetryBytes: bytes('disk budget of telemetry events (hourly aggregates)', 64 * MiB),
        totalBytes: bytes('all classes together; over it the lowest class is dropped first', 384 * MiB),
      },
      { additionalProperties: false, default: {} },
    ),
    droppedReportIntervalMs: Type.Integer({
      minimum: 0,
      maximum: 3600000,
      description:
        'at most one store.relay.dropped event per interval (drops in between are summed into the next): ' +
        'bounds the reports during a long outage',
      default: 1_000,
    }),
    rateWindowS: Type.Integer({
      minimum: 10,
      maximum: 86400,
      description: 'time constant of the append rate the disk-fill forecast extrapolates',
      default: 300,
    }),
  },
  {
    additionalProperties: false,
    description: 'the durable outbox: group commit and per-class disk budgets',
    default: {},
  },
);
export type OutboxConfig = Static<typeof OutboxConfigSchema>;

export const RecorderConfigSchema = Type.Object(
  {
    maxOpenBasketsPerKiosk: Type.Integer({
      minimum: 1,
      maximum: 100,
      description: 'a kiosk opening more evicts its oldest open basket',
      default: 4,
    }),
    maxOpenBaskets: Type.Integer({ minimum: 1, maximum: 100000, description: 'open baskets of all kiosks together', default: 2_000 }),
    basketStaleAfterMs: Type.Integer({
      minimum: 60000,
      maximum: 604800000,
      description: 'an open basket without activity this long is forgotten',
      default: 6 * 3_600_000,
    }),
    maxBasketLines: Type.Integer({
      minimum: 1,
      maximum: 10000,
      description: 'scanned lines kept per basket; beyond, the transaction is marked incomplete',
      default: 500,
    }),
    maxAggregateFacings: Type.Integer({
      minimum: 1,
      maximum: 1000000,
      description: 'facings with hourly weight aggregates (planogram facings only)',
      default: 100_000,
    }),
    maxStockFacings: Type.Integer({
      minimum: 1,
      maximum: 1000000,
      description: 'facings whose last sent stock is remembered for change-only sending',
      default: 100_000,
    }),
  },
  {
    additionalProperties: false,
    description: 'what the relay remembers to build events (open kiosk baskets, change-only stock)',
    default: {},
  },
);
export type RecorderConfig = Static<typeof RecorderConfigSchema>;
