/**
 * The `hq` section of the gateway configuration: where HQ's MQTT broker is, how to log in, and how the relay sends.
 * Everything but `enabled` and `url` is optional in the file; `resolveRelayConfig` fills the defaults below, so a
 * store only writes what differs.
 */
import { Type, type Static } from 'typebox';
import { Nullable } from '../core/schema.js';
import {
  OUTBOX_DEFAULTS,
  OutboxConfigSchema,
  RECORDER_DEFAULTS,
  RecorderConfigSchema,
  type OutboxConfig,
  type RecorderConfig,
} from './outbox-config.js';

/** The outbox options, each optional: a store writes only what differs from OUTBOX_DEFAULTS (budgets one by one). */
const OutboxOverridesSchema = Type.Partial(
  Type.Object({
    ...OutboxConfigSchema.properties,
    budgets: Type.Partial(OutboxConfigSchema.properties.budgets, { additionalProperties: false }),
  }),
  {
    additionalProperties: false,
    description: 'the durable outbox: group commit and per-class disk budgets (defaults in edge/relay/outbox-config.ts)',
  },
);
const RecorderOverridesSchema = Type.Partial(RecorderConfigSchema, {
  additionalProperties: false,
  description: 'what the relay remembers to build events (open kiosk baskets, change-only stock); defaults in edge/relay/outbox-config.ts',
});

const DrainSchema = Type.Object(
  {
    ratePerS: Type.Integer({
      minimum: 0,
      maximum: 1000000,
      description: 'backlog events per second after an outage; 0 = uncapped (live events are never capped)',
    }),
    burst: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000000, description: 'backlog events that may go at once' })),
    jitter: Type.Optional(
      Type.Number({ minimum: 0, maximum: 1, description: 'each wait for the rate cap is stretched by up to this fraction, at random' }),
    ),
  },
  { additionalProperties: false },
);

export const RelayConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({ description: 'relay events to HQ and take commands from HQ' }),
    url: Nullable(Type.String({ pattern: '^mqtts?://', description: "HQ's MQTT 5 broker, e.g. mqtts://hq.example.com:8883" })),
    username: Type.Optional(Nullable(Type.String())),
    password: Type.Optional(Nullable(Type.String({ description: 'prefer env SMARTSTORE_HQ_PASSWORD' }))),
    eventTypePrefix: Type.Optional(
      Type.String({
        pattern: '^$|^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$',
        maxLength: 128,
        description:
          'reverse-DNS prefix of every CloudEvents type, e.g. com.smartstore → com.smartstore.store.kiosk.event; ' +
          "'' sends store.kiosk.event as before. Topics and the outbox keep the type without it",
      }),
    ),
    topicPrefix: Type.Optional(
      Type.String({
        pattern: '^[^#+/][^#+]*[^#+/]$|^[^#+/]$',
        description: 'events go to <topicPrefix>/<storeId>/events/<type>, commands come on <topicPrefix>/<storeId>/commands/#',
      }),
    ),
    clientId: Type.Optional(
      Nullable(
        Type.String({
          minLength: 1,
          maxLength: 128,
          description: 'default smartstore-edge-<storeId>; must stay the same for the persistent session',
        }),
      ),
    ),
    tls: Type.Optional(
      Type.Object(
        {
          ca: Type.Optional(Nullable(Type.String({ description: "PEM file of the CA that signed HQ's certificate" }))),
          cert: Type.Optional(Nullable(Type.String({ description: "PEM file of the store's client certificate" }))),
          key: Type.Optional(Nullable(Type.String({ description: "PEM file of the store's client key" }))),
          rejectUnauthorized: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
    ),
    sessionExpirySec: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 4294967295,
        description: "how long HQ keeps the store's session (queued commands) while the link is down",
      }),
    ),
    keepaliveSec: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    connectTimeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 600000 })),
    reconnectMinMs: Type.Optional(
      Type.Integer({
        minimum: 10,
        maximum: 3600000,
        description: 'first reconnect delay; doubles per failure (with jitter) up to reconnectMaxMs',
      }),
    ),
    reconnectMaxMs: Type.Optional(Type.Integer({ minimum: 10, maximum: 3600000 })),
    maxInFlight: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 65535, description: "unacknowledged publishes at most (also bounded by HQ's Receive Maximum)" }),
    ),
    drain: Type.Optional(DrainSchema),
    outbox: Type.Optional(OutboxOverridesSchema),
    recorder: Type.Optional(RecorderOverridesSchema),
  },
  { additionalProperties: false },
);

export type RelayConfig = Static<typeof RelayConfigSchema>;

/** The `hq` section with every default filled in and the password taken from the environment's override. */
export type ResolvedRelayConfig = {
  enabled: boolean;
  url: string | null;
  username: string | null;
  password: string | null;
  eventTypePrefix: string;
  topicPrefix: string;
  clientId: string;
  tls: { ca: string | null; cert: string | null; key: string | null; rejectUnauthorized: boolean };
  sessionExpirySec: number;
  keepaliveSec: number;
  connectTimeoutMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  maxInFlight: number;
  drain: { ratePerS: number; burst: number; jitter: number };
  outbox: OutboxConfig;
  recorder: RecorderConfig;
};

export const RELAY_DEFAULTS = {
  eventTypePrefix: 'com.smartstore',
  topicPrefix: 'smartstore',
  sessionExpirySec: 7 * 24 * 3600,
  keepaliveSec: 30,
  connectTimeoutMs: 10_000,
  reconnectMinMs: 1_000,
  reconnectMaxMs: 60_000,
  maxInFlight: 200,
  drain: { ratePerS: 2_000, burst: 200, jitter: 0.2 },
} as const;

export function resolveRelayConfig(hq: RelayConfig, storeId: string): ResolvedRelayConfig {
  const reconnectMinMs = hq.reconnectMinMs ?? RELAY_DEFAULTS.reconnectMinMs;
  return {
    enabled: hq.enabled,
    url: hq.url,
    username: hq.username ?? null,
    password: hq.password ?? null,
    eventTypePrefix: hq.eventTypePrefix ?? RELAY_DEFAULTS.eventTypePrefix,
    topicPrefix: hq.topicPrefix ?? RELAY_DEFAULTS.topicPrefix,
    clientId: hq.clientId ?? `smartstore-edge-${storeId}`,
    tls: {
      ca: hq.tls?.ca ?? null,
      cert: hq.tls?.cert ?? null,
      key: hq.tls?.key ?? null,
      rejectUnauthorized: hq.tls?.rejectUnauthorized ?? true,
    },
    sessionExpirySec: hq.sessionExpirySec ?? RELAY_DEFAULTS.sessionExpirySec,
    keepaliveSec: hq.keepaliveSec ?? RELAY_DEFAULTS.keepaliveSec,
    connectTimeoutMs: hq.connectTimeoutMs ?? RELAY_DEFAULTS.connectTimeoutMs,
    reconnectMinMs,
    reconnectMaxMs: Math.max(reconnectMinMs, hq.reconnectMaxMs ?? RELAY_DEFAULTS.reconnectMaxMs),
    maxInFlight: hq.maxInFlight ?? RELAY_DEFAULTS.maxInFlight,
    drain: {
      ratePerS: hq.drain?.ratePerS ?? RELAY_DEFAULTS.drain.ratePerS,
      burst: hq.drain?.burst ?? RELAY_DEFAULTS.drain.burst,
      jitter: hq.drain?.jitter ?? RELAY_DEFAULTS.drain.jitter,
    },
    outbox: { ...OUTBOX_DEFAULTS, ...hq.outbox, budgets: { ...OUTBOX_DEFAULTS.budgets, ...hq.outbox?.budgets } },
    recorder: { ...RECORDER_DEFAULTS, ...hq.recorder },
  };
}
