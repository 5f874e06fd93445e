/**
 * The `hq` section of the gateway configuration: where HQ's MQTT broker is, how to log in, and how the relay sends.
 * Every option but `enabled` and `url` has its default here (`default:`), filled in when the config is loaded, so a
 * store only writes what differs. `hq.enabled: true` needs `hq.url` (a schema rule that check-config reports).
 */
import { Type, type Static } from 'typebox';
import { Nullable } from '../core/schema.js';
import { OutboxConfigSchema, RecorderConfigSchema } from './outbox-config.js';

const DrainSchema = Type.Object(
  {
    ratePerS: Type.Integer({
      minimum: 0,
      maximum: 1000000,
      description: 'backlog events per second after an outage; 0 = uncapped (live events are never capped)',
      default: 2_000,
    }),
    burst: Type.Integer({ minimum: 1, maximum: 1000000, description: 'backlog events that may go at once', default: 200 }),
    jitter: Type.Number({
      minimum: 0,
      maximum: 1,
      description: 'each wait for the rate cap is stretched by up to this fraction, at random',
      default: 0.2,
    }),
  },
  { additionalProperties: false, default: {} },
);

export const RelayConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({ description: 'relay events to HQ and take commands from HQ', default: false }),
    url: Nullable(
      Type.String({
        pattern: '^mqtts?://',
        description: "HQ's MQTT 5 broker, e.g. mqtts://hq.example.com:8883; needed when enabled",
        default: null,
      }),
    ),
    username: Nullable(Type.String({ default: null })),
    password: Nullable(Type.String({ description: 'prefer env SMARTSTORE_HQ_PASSWORD', default: null })),
    eventTypePrefix: Type.String({
      pattern: '^$|^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$',
      maxLength: 128,
      description:
        'reverse-DNS prefix of every CloudEvents type, e.g. com.smartstore → com.smartstore.store.kiosk.event; ' +
        "'' sends store.kiosk.event as before. Topics and the outbox keep the type without it",
      default: 'com.smartstore',
    }),
    topicPrefix: Type.String({
      pattern: '^[^#+/][^#+]*[^#+/]$|^[^#+/]$',
      description: 'events go to <topicPrefix>/<storeId>/events/<type>, commands come on <topicPrefix>/<storeId>/commands/#',
      default: 'smartstore',
    }),
    clientId: Nullable(
      Type.String({
        minLength: 1,
        maxLength: 128,
        description: 'null: smartstore-edge-<storeId>; must stay the same for the persistent session',
        default: null,
      }),
    ),
    tls: Type.Object(
      {
        ca: Nullable(Type.String({ description: "PEM file of the CA that signed HQ's certificate", default: null })),
        cert: Nullable(Type.String({ description: "PEM file of the store's client certificate", default: null })),
        key: Nullable(Type.String({ description: "PEM file of the store's client key", default: null })),
        rejectUnauthorized: Type.Boolean({ default: true }),
      },
      { additionalProperties: false, default: {} },
    ),
    sessionExpirySec: Type.Integer({
      minimum: 0,
      maximum: 4294967295,
      description: "how long HQ keeps the store's session (queued commands) while the link is down",
      default: 7 * 24 * 3600,
    }),
    keepaliveSec: Type.Integer({ minimum: 1, maximum: 65535, default: 30 }),
    connectTimeoutMs: Type.Integer({ minimum: 100, maximum: 600000, default: 10_000 }),
    reconnectMinMs: Type.Integer({
      minimum: 10,
      maximum: 3600000,
      description: 'first reconnect delay; doubles per failure (with jitter) up to reconnectMaxMs',
      default: 1_000,
    }),
    reconnectMaxMs: Type.Integer({
      minimum: 10,
      maximum: 3600000,
      description: 'longest reconnect delay; below reconnectMinMs, reconnectMinMs is used',
      default: 60_000,
    }),
    maxInFlight: Type.Integer({
      minimum: 1,
      maximum: 65535,
      description: "unacknowledged publishes at most (also bounded by HQ's Receive Maximum)",
      default: 200,
    }),
    drain: DrainSchema,
    outbox: OutboxConfigSchema,
    recorder: RecorderConfigSchema,
  },
  {
    additionalProperties: false,
    default: {},
    // the relay cannot run without HQ's address; check-config names the option (load-config.ts words the rule)
    if: { properties: { enabled: { const: true } }, required: ['enabled'] },
    then: { properties: { url: { type: 'string', description: "set: HQ's broker, mqtt:// or mqtts://" } }, required: ['url'] },
  },
);

/** The `hq` section as loaded: every default filled in. */
export type RelayConfig = Static<typeof RelayConfigSchema>;

/** What the relay runs with: the client id made from the store id when none is set, HQ's url known when enabled. */
export type ResolvedRelayConfig = Omit<RelayConfig, 'enabled' | 'url' | 'clientId'> & { clientId: string } & (
    { enabled: false; url: string | null } | { enabled: true; url: string }
  );

/** The derived values only: the defaults themselves were filled in from the schema when the config was loaded. */
export function resolveRelayConfig(hq: RelayConfig, storeId: string): ResolvedRelayConfig {
  const { enabled, url, clientId, ...rest } = hq;
  const resolved = {
    ...rest,
    clientId: clientId ?? `smartstore-edge-${storeId}`,
    reconnectMaxMs: Math.max(hq.reconnectMinMs, hq.reconnectMaxMs),
  };
  if (!enabled) return { ...resolved, enabled, url };
  // unreachable for a loaded config (the schema's rule above): only a config built by hand in code gets here
  if (url === null) throw new Error('hq.enabled is true but hq.url is not set (loadConfig reports this as /hq/url)');
  return { ...resolved, enabled, url };
}
