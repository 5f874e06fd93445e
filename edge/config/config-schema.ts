/**
 * The gateway configuration, declared once: `ConfigSchema` validates a config at start (load-config.ts), its `Static`
 * is `GatewayConfig`, and config/schema.json is generated from it for editors (`npm run schema:config`; a unit test
 * fails while the committed file differs). Descriptions are what editors show next to each option.
 */
import { Type, type Static } from 'typebox';
import { Nullable } from '../core/schema.js';
import { RelayConfigSchema } from '../relay/relay-config.js';
import { OpcuaDeviceListSchema } from '../opcua/opcua-devices-config.js';
import { OpcuaServerConfigSchema } from '../opcua/opcua-server-config.js';
import { LabelsConfigSchema } from '../labels/labels-config.js';
import { ColdChainConfigSchema } from '../cold-chain/cold-chain-config.js';
import { AlertsConfigSchema } from '../alerts/alerts-config.js';
import { InsightConfigSchema } from '../insight/insight-config.js';
import { KpisConfigSchema } from '../kpis/kpis-config.js';

const port = (defaultPort?: number) =>
  Type.Integer({ minimum: 0, maximum: 65535, ...(defaultPort === undefined ? {} : { default: defaultPort }) });

/** What HttpServer's isLoopbackHost accepts: localhost, IPv4 127.0.0.0/8, IPv6 ::1. */
const LOOPBACK_HOST_PATTERN = '^(localhost|127(\\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}|::1)$';
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const SCRYPT_COSTS = [1024, 2048, 4096, 8192, 16384, 32768, 65536] as const;

export const ConfigSchema = Type.Object(
  {
    storeId: Type.String({
      pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$',
      description: "this store's id; first level under store/ in every topic",
      default: 'store-0001',
    }),
    dataDir: Type.String({
      minLength: 1,
      description: 'folder of the SQLite database (relative to the working directory)',
      default: './data',
    }),
    store: Type.Object(
      {
        currency: Type.String({
          pattern: '^[A-Z]{3}$',
          description: "the store's currency (ISO 4217: EUR, CHF, GBP); prices on the staff page are shown in it",
          default: 'EUR',
        }),
        locale: Type.String({
          pattern: '^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$',
          description: 'how the staff page writes money, numbers and dates (BCP 47: en, de-DE, fr-CH)',
          default: 'en',
        }),
        timeZone: Nullable(
          Type.String({
            minLength: 1,
            maxLength: 64,
            pattern: '^[A-Za-z][A-Za-z0-9_+/-]*$',
            description:
              "the store's IANA time zone (Europe/Berlin): its hours of day, the times alerts name, the days KPIs count by; " +
              "null: insight.timeZone if set there (its old place), else the process's (TZ)",
            default: null,
          }),
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    log: Type.Object(
      {
        level: Type.Enum(LOG_LEVELS, { default: 'info' }),
        pretty: Type.Boolean({ description: 'human-readable lines instead of JSON (demo, terminals)', default: false }),
      },
      { additionalProperties: false, default: {} },
    ),
    mqtt: Type.Object(
      {
        host: Type.String({ minLength: 1, default: '0.0.0.0' }),
        port: port(1883),
        maxConnections: Type.Integer({ minimum: 1, maximum: 100000, default: 5000 }),
        maxPacketBytes: Type.Integer({
          minimum: 256,
          maximum: 268435455,
          description: 'larger packets close the connection before they are buffered',
          default: 16384,
        }),
        connectTimeoutMs: Type.Integer({
          minimum: 100,
          maximum: 600000,
          description: 'a socket that sends no CONNECT within this time is closed',
          default: 10000,
        }),
        maxKeepaliveSec: Type.Integer({
          minimum: 1,
          maximum: 65535,
          description: 'CONNECTs with a longer keepalive are refused (CONNACK 5); keepalive 0 (none) is accepted and held to this one',
          default: 300,
        }),
        drainTimeoutMs: Type.Integer({
          minimum: 100,
          maximum: 600000,
          description: 'a client that stops reading is dropped after this',
          default: 10000,
        }),
        maxAuthFailuresPerMinute: Type.Integer({
          minimum: 1,
          maximum: 100000,
          description:
            'per device id and client address; beyond it CONNECTs for the id from that address are refused without checking the secret',
          default: 10,
        }),
        maxAuthFailuresPerAddressPerMinute: Type.Integer({
          minimum: 1,
          maximum: 1000000,
          description:
            'per client address, whatever the device id; beyond it CONNECTs from the address are refused without checking the secret',
          default: 100,
        }),
        deviceRateLimit: Type.Object(
          {
            messagesPerSecond: Type.Integer({
              minimum: 1,
              maximum: 1000000,
              description: 'sustained PUBLISH rate one device may send',
              default: 500,
            }),
            burst: Type.Integer({
              minimum: 1,
              maximum: 10000000,
              description: 'PUBLISHes a device may send at once above the rate (the bucket size)',
              default: 2000,
            }),
            disconnectAfterMs: Type.Integer({
              minimum: 100,
              maximum: 3600000,
              description: 'a device over the limit this long without a pause of 1 s is disconnected',
              default: 10000,
            }),
          },
          {
            additionalProperties: false,
            description: 'token bucket per device: QoS 0 beyond it is dropped; QoS 1 beyond it closes the connection without PUBACK',
            default: {},
          },
        ),
        maxConnectionsPerAddress: Type.Integer({
          minimum: 1,
          maximum: 100000,
          description: 'open connections one client address may hold; more are refused at once',
          default: 32,
        }),
        maxConnectAttemptsPerAddressPerMinute: Type.Integer({
          minimum: 1,
          maximum: 1000000,
          description: 'new connections one client address may open a minute',
          default: 120,
        }),
        plainListener: Type.Boolean({
          description:
            'the plain MQTT listener on host:port (secrets cross the network in clear: loopback or a closed device network only)',
          default: true,
        }),
        tls: Type.Union(
          [
            Type.Object(
              {
                port: port(),
                certFile: Type.String({ minLength: 1, description: 'PEM certificate of the broker (e.g. from `ca server`)' }),
                keyFile: Type.String({ minLength: 1, description: 'PEM private key; refused when other users may read it' }),
                clientCaFile: Nullable(
                  Type.String({ minLength: 1, description: 'CA of device certificates; null: the store CA (<dataDir>/pki/ca.crt)' }),
                ),
                clientCertificates: Type.Enum(['optional', 'required'], {
                  description: 'optional: a device logs in with its certificate or its secret; required: only with a certificate',
                }),
              },
              { additionalProperties: false },
            ),
            Type.Null(),
          ],
          { description: 'MQTTS listener (8883); devices may log in with a certificate whose CN is their id', default: null },
        ),
      },
      {
        additionalProperties: false,
        default: {},
        // a broker without a listener: no device could connect
        if: { properties: { plainListener: { const: false } }, required: ['plainListener'] },
        then: {
          properties: { tls: { type: 'object', description: 'set (the MQTTS listener): devices have no other way in' } },
          required: ['tls'],
        },
      },
    ),
    http: Type.Object(
      {
        // loopback until TLS is configured (http.tls) or plain HTTP allowed on purpose (http.allowPlainHttp)
        host: Type.String({ minLength: 1, default: '127.0.0.1' }),
        port: port(8080),
        apiToken: Nullable(
          Type.String({
            minLength: 16,
            description: 'an admin token for automation and the demo; prefer named tokens (`token add`) and env SMARTSTORE_API_TOKEN',
            default: null,
          }),
        ),
        metricsToken: Nullable(
          Type.String({
            minLength: 16,
            description: 'bearer token that may read /metrics only (a scraper); viewer tokens may too; prefer env SMARTSTORE_METRICS_TOKEN',
            default: null,
          }),
        ),
        allowedHosts: Type.Array(Type.String({ minLength: 1, maxLength: 253 }), {
          maxItems: 64,
          description: 'host names the API answers to besides IP addresses and localhost (Host header; defeats DNS rebinding)',
          default: [],
        }),
        maxAuthFailuresPerMinute: Type.Integer({
          minimum: 1,
          maximum: 100000,
          description: 'per client address; beyond it unknown tokens are refused (429) for a minute (valid tokens are still served)',
          default: 10,
        }),
        bodyLimitBytes: Type.Integer({ minimum: 1024, maximum: 10485760, default: 65536 }),
        maxSseClients: Type.Integer({ minimum: 1, maximum: 10000, default: 50 }),
        tls: Type.Union(
          [
            Type.Object(
              {
                certFile: Type.String({ minLength: 1, description: 'PEM certificate (chain) of the gateway' }),
                keyFile: Type.String({ minLength: 1, description: 'PEM private key; refused when other users may read it' }),
              },
              { additionalProperties: false },
            ),
            Type.Null(),
          ],
          { description: 'HTTPS for the API, live stream and staff page (with HSTS); null: plain HTTP', default: null },
        ),
        allowPlainHttp: Type.Boolean({
          description: 'serve plain HTTP on a non-loopback address (tokens would cross the network in clear)',
          default: false,
        }),
      },
      {
        additionalProperties: false,
        default: {},
        // plain HTTP would carry API tokens across the network in clear (HttpServer refuses it too, at start)
        if: { properties: { tls: { const: null }, allowPlainHttp: { const: false } } },
        then: {
          properties: {
            host: {
              type: 'string',
              pattern: LOOPBACK_HOST_PATTERN,
              description: 'a loopback address (127.0.0.1, ::1, localhost), or set http.tls or http.allowPlainHttp: true',
            },
          },
        },
      },
    ),
    planogram: Type.Object(
      {
        file: Nullable(
          Type.String({
            description: 'planogram YAML loaded at start (products, shelves, facings); null keeps the one in the database',
            default: null,
          }),
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    lowStock: Type.Object(
      {
        smoothingWindow: Type.Integer({ minimum: 1, maximum: 64, description: 'readings in the rolling median per facing', default: 5 }),
        debounceMs: Type.Integer({
          minimum: 0,
          maximum: 3600000,
          description: 'a level change must hold this long before it opens or resolves an alert',
          default: 5000,
        }),
        staleAfterMs: Type.Integer({
          minimum: 1000,
          maximum: 86400000,
          description: "after this without a weight reading, kiosk sales estimate the facing's units",
          default: 60000,
        }),
        rearmAfterMs: Type.Integer({
          minimum: 1000,
          maximum: 604800000,
          description:
            'a low-stock alert staff resolved while the facing was still low opens again after this ' +
            'if the facing is still low (or at once when it empties)',
          default: 1800000,
        }),
        sensorToleranceG: Type.Number({
          minimum: 0,
          maximum: 100000,
          description: 'a gross weight below -sensorToleranceG is a sensor fault, not stock (see docs: plausible weights)',
          default: 50,
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    stock: Type.Object(
      {
        historyDays: Type.Integer({
          minimum: 1,
          maximum: 90,
          description: "a facing's units over time (one point per minute they changed, the staff page's charts) are kept this many days",
          default: 14,
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    alerts: AlertsConfigSchema,
    coldChain: ColdChainConfigSchema,
    insight: InsightConfigSchema,
    kpis: KpisConfigSchema,
    commands: Type.Object(
      {
        ackTimeoutMs: Type.Integer({
          minimum: 100,
          maximum: 3600000,
          description: 'a command a device has not acknowledged after this is reported timed-out',
          default: 10000,
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    storage: Type.Object(
      {
        flushIntervalMs: Type.Integer({
          minimum: 50,
          maximum: 60000,
          description: 'state changes are written in one transaction this often',
          default: 1000,
        }),
        maxHistoryRows: Type.Integer({ minimum: 100, maximum: 100000000, default: 500000 }),
        retentionDays: Type.Integer({
          minimum: 1,
          maximum: 3650,
          description: 'raw readings and kiosk events are deleted after this many days',
          default: 30,
        }),
        maxPendingWrites: Type.Integer({
          minimum: 100,
          maximum: 10000000,
          description: 'bound of the write-behind queue while the disk refuses writes',
          default: 100000,
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    security: Type.Object(
      {
        scryptCost: Type.Enum(SCRYPT_COSTS, { type: 'integer', description: 'scrypt N of device secret hashes', default: 4096 }),
        pseudonymKeyFile: Nullable(
          Type.String({
            minLength: 1,
            description: "the store's key for customer-data pseudonyms (made on first start, mode 600); null: <dataDir>/pseudonym.key",
            default: null,
          }),
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    hq: RelayConfigSchema,
    opcua: Type.Object({ server: OpcuaServerConfigSchema, devices: OpcuaDeviceListSchema }, { additionalProperties: false, default: {} }),
    labels: LabelsConfigSchema,
  },
  {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://smartstore-edge.local/config.schema.json',
    title: 'smartstore-edge gateway configuration',
    $comment: 'generated from edge/config/config-schema.ts by `npm run schema:config`; edit that file, not this one',
    additionalProperties: false,
  },
);

/** The validated gateway configuration. */
export type GatewayConfig = Static<typeof ConfigSchema>;
