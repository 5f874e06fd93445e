/** Schemas of the device API (docs/http-api.md), in TypeBox: the JSON Schema and the TypeScript type in one. */
import { Type, type Static } from 'typebox';
import { DEVICE_ID_PATTERN, DEVICE_KINDS } from './topics.js';

const deviceId = Type.String({
  pattern: DEVICE_ID_PATTERN,
  description: 'a device id: letters, digits and . _ - only, starting with a letter or digit, at most 64 characters',
});
const deviceKind = Type.Enum(DEVICE_KINDS);

export const deviceBodySchema = Type.Object({ id: deviceId, kind: deviceKind }, { additionalProperties: false });
export type DeviceBody = Static<typeof deviceBodySchema>;

export const deviceParamsSchema = Type.Object({ id: deviceId }, { additionalProperties: false });
export type DeviceParams = Static<typeof deviceParamsSchema>;

/** A device as the API shows it: never its secret. */
export const deviceViewSchema = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  connected: Type.Boolean(),
  disabled: Type.Boolean(),
  lastSeenAt: Type.Union([Type.Integer(), Type.Null()]),
  /** the last battery the device reported, in mV (shelf labels report theirs); absent where none is known */
  batteryMv: Type.Optional(Type.Integer()),
  /** present (true) for a shelf whose id is not a shelf of the planogram: its readings match no facing */
  unmapped: Type.Optional(Type.Literal(true)),
});
export type DeviceView = Static<typeof deviceViewSchema>;

export const deviceListSchema = Type.Object({ devices: Type.Array(deviceViewSchema) });

/** The answer that carries a secret (registration, rotation): the only time the secret is shown. */
export const deviceSecretSchema = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  secret: Type.String(),
  warning: Type.Optional(Type.String()),
});
