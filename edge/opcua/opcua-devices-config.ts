/**
 * OPC UA devices the gateway subscribes to (`opcua.devices` in the config): refrigerated case controllers and
 * industrial shelf controllers that speak OPC UA instead of MQTT. Each names its endpoint, its security, and the
 * variables that feed one field of the device contract (docs/device-contract.md). Pure: no node-opcua here.
 */
import { Type, type Static } from 'typebox';
import { DEVICE_ID_PATTERN } from '../device-registry/topics.js';

export const OPCUA_DEVICE_KINDS = ['case', 'shelf'] as const;
export type OpcuaDeviceKind = (typeof OPCUA_DEVICE_KINDS)[number];

/** The device-contract fields an OPC UA variable can feed: a case's temperature and door, a shelf facing's weight. */
export const OPCUA_ITEM_FIELDS = ['temperatureC', 'doorOpen', 'weightG'] as const;
export type OpcuaItemField = (typeof OPCUA_ITEM_FIELDS)[number];

export const OPCUA_SECURITY_MODES = ['None', 'Sign', 'SignAndEncrypt'] as const;
export const OPCUA_SECURITY_POLICIES = ['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'] as const;

const samplingIntervalMs = (options: { description: string; default?: number }) =>
  Type.Integer({ minimum: 10, maximum: 3_600_000, ...options });

export const OpcuaItemSchema = Type.Object(
  {
    field: Type.Enum(OPCUA_ITEM_FIELDS, { type: 'string', description: 'the device-contract field this variable feeds' }),
    facing: Type.Optional(Type.Integer({ minimum: 1, maximum: 64, description: 'weightG only: the planogram facing' })),
    nodeId: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'e.g. "ns=1;s=Case/Temperature"; used as is' })),
    browsePath: Type.Optional(
      Type.String({
        pattern: '^/',
        maxLength: 512,
        description:
          'preferred: a path from the Objects folder, e.g. "/1:RefrigeratedCase/1:Temperature"; ' +
          'resolved again when the device forgets a NodeId',
      }),
    ),
    samplingIntervalMs: Type.Optional(
      samplingIntervalMs({ description: "how often the device is expected to report the value; absent: the device's" }),
    ),
  },
  {
    additionalProperties: false,
    // strict Ajv (load-config) wants a required property declared in the same schema object: hence the repetition
    anyOf: [
      { properties: { nodeId: { type: 'string' } }, required: ['nodeId'] },
      { properties: { browsePath: { type: 'string' } }, required: ['browsePath'] },
    ],
    if: { properties: { field: { const: 'weightG' } } },
    then: { properties: { facing: { type: 'integer' } }, required: ['facing'] },
  },
);
export type OpcuaItemConfig = Static<typeof OpcuaItemSchema>;

/** The cold-chain limits of one refrigerated case (edge/cold-chain/). */
export const ColdChainLimitsSchema = Type.Object(
  {
    maxTemperatureC: Type.Number({ minimum: -60, maximum: 60, description: 'above this the case is out of range' }),
    aboveForMs: Type.Integer({ minimum: 0, maximum: 86_400_000, description: 'out of range this long opens a critical cold-chain alert' }),
    backInRangeForMs: Type.Integer({ minimum: 0, maximum: 86_400_000, description: 'back in range this long resolves it' }),
    doorOpenMaxMs: Type.Integer({ minimum: 0, maximum: 86_400_000, description: 'a door open longer than this opens a warning' }),
  },
  { additionalProperties: false },
);
export type ColdChainLimits = Static<typeof ColdChainLimitsSchema>;

/** How hard the driver tries to keep the device's data flowing; the defaults suit a store LAN (edge/opcua/device-session.ts). */
export const OpcuaRecoverySchema = Type.Object(
  {
    reconnectInitialMs: Type.Integer({
      minimum: 10,
      maximum: 600_000,
      description: 'first reconnect delay; doubles up to reconnectMaxMs, with jitter',
      default: 500,
    }),
    reconnectMaxMs: Type.Integer({
      minimum: 10,
      maximum: 3_600_000,
      description: 'below reconnectInitialMs, that is used',
      default: 30_000,
    }),
    recoveryDeadlineMs: Type.Integer({
      minimum: 100,
      maximum: 3_600_000,
      description: 'after a cut, no data within this rebuilds the connection from scratch',
      default: 10_000,
    }),
    requestTimeoutMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 10_000 }),
    staleAfterIntervals: Type.Integer({
      minimum: 2,
      maximum: 1_000,
      description: 'an item silent for this many expected intervals is re-created',
      default: 5,
    }),
    minSilenceMs: Type.Integer({
      minimum: 100,
      maximum: 3_600_000,
      description: 'never re-created for silence sooner than this',
      default: 5_000,
    }),
  },
  { additionalProperties: false, default: {} },
);
export type OpcuaRecoveryConfig = Static<typeof OpcuaRecoverySchema>;

export const OpcuaDeviceSchema = Type.Object(
  {
    id: Type.String({ pattern: DEVICE_ID_PATTERN, description: 'device id in the registry, alerts and logs' }),
    kind: Type.Enum(OPCUA_DEVICE_KINDS, { type: 'string' }),
    endpointUrl: Type.String({ pattern: '^opc\\.tcp://', maxLength: 512 }),
    securityMode: Type.Enum(OPCUA_SECURITY_MODES, { type: 'string', default: 'None' }),
    securityPolicy: Type.Enum(OPCUA_SECURITY_POLICIES, { type: 'string', default: 'None' }),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    passwordEnv: Type.Optional(
      Type.String({ pattern: '^[A-Z_][A-Z0-9_]*$', description: 'name of the environment variable holding the password' }),
    ),
    samplingIntervalMs: samplingIntervalMs({ description: 'how often the device is expected to report its values', default: 1_000 }),
    items: Type.Array(OpcuaItemSchema, { minItems: 1, maxItems: 256 }),
    coldChain: Type.Optional(ColdChainLimitsSchema),
    recovery: OpcuaRecoverySchema,
  },
  { additionalProperties: false },
);
export type OpcuaDeviceConfig = Static<typeof OpcuaDeviceSchema>;

export const OpcuaDeviceListSchema = Type.Array(OpcuaDeviceSchema, {
  maxItems: 500,
  description: 'OPC UA devices subscribed to (refrigerated cases, shelf controllers)',
  default: [],
});

/** The interval an item is expected to report at: its own, else its device's (which has a default). */
export function expectedIntervalMs(
  device: Pick<OpcuaDeviceConfig, 'samplingIntervalMs'>,
  item: Pick<OpcuaItemConfig, 'samplingIntervalMs'>,
): number {
  return item.samplingIntervalMs ?? device.samplingIntervalMs;
}
