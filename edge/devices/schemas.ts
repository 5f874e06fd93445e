/**
 * JSON Schemas of every device message, one per (kind, channel). They are the contract documented in
 * docs/device-contract.md and are compiled once at start by `DeviceMessageDecoder`.
 */
import type { DeviceKind } from './topics.js';

const ts = { type: 'integer', minimum: 0, maximum: 8_640_000_000_000_000, description: 'device clock, ms since epoch' } as const;
const sku = { type: 'string', minLength: 1, maxLength: 64 } as const;
const priceCents = { type: 'integer', minimum: 0, maximum: 100_000_000 } as const;

export const KIOSK_EVENT_TYPES = [
  'basket-open',
  'item-scanned',
  'weight-mismatch',
  'assist-requested',
  'payment-succeeded',
  'payment-failed',
  'basket-closed',
] as const;

export const shelfWeightSchema = {
  $id: 'shelf/weight',
  type: 'object',
  additionalProperties: false,
  required: ['facing', 'weightG', 'ts'],
  properties: {
    facing: { type: 'integer', minimum: 1, maximum: 64 },
    weightG: { type: 'number', minimum: -100_000, maximum: 1_000_000 },
    ts,
  },
} as const;

export const shelfStatusSchema = {
  $id: 'shelf/status',
  type: 'object',
  additionalProperties: false,
  required: ['ts'],
  properties: {
    firmware: { type: 'string', maxLength: 32 },
    tempC: { type: 'number', minimum: -50, maximum: 100 },
    faults: { type: 'array', maxItems: 16, items: { type: 'string', maxLength: 64 } },
    ts,
  },
} as const;

export const eslStatusSchema = {
  $id: 'esl/status',
  type: 'object',
  additionalProperties: false,
  required: ['batteryMv', 'displayedPriceCents', 'ts'],
  properties: {
    batteryMv: { type: 'integer', minimum: 0, maximum: 10_000 },
    displayedPriceCents: { anyOf: [priceCents, { type: 'null' }] },
    sku,
    firmware: { type: 'string', maxLength: 32 },
    rssiDbm: { type: 'integer', minimum: -150, maximum: 0 },
    ts,
  },
} as const;

/** A device's answer to a command (`cmd` channel), on its `ack` channel; the same for every kind. */
const ackSchema = <Id extends string>($id: Id) => ({
  $id,
  type: 'object',
  additionalProperties: false,
  required: ['cmdId', 'ok', 'ts'],
  properties: {
    cmdId: { type: 'string', minLength: 1, maxLength: 64 },
    ok: { type: 'boolean' },
    error: { type: 'string', maxLength: 256 },
    displayedPriceCents: priceCents,
    ts,
  },
}) as const;
export const eslAckSchema = ackSchema('esl/ack');

export const kioskEventSchema = {
  $id: 'kiosk/event',
  type: 'object',
  additionalProperties: false,
  required: ['type', 'ts'],
  properties: {
    type: { enum: KIOSK_EVENT_TYPES },
    basketId: { type: 'string', minLength: 1, maxLength: 64 },
    sku,
    qty: { type: 'integer', minimum: 1, maximum: 1000 },
    priceCents,
    expectedWeightG: { type: 'number', minimum: 0, maximum: 1_000_000 },
    measuredWeightG: { type: 'number', minimum: 0, maximum: 1_000_000 },
    reason: { type: 'string', maxLength: 256 },
    ts,
  },
  allOf: [
    { if: { properties: { type: { const: 'item-scanned' } } }, then: { required: ['basketId', 'sku', 'qty'] } },
    {
      if: { properties: { type: { const: 'weight-mismatch' } } },
      then: { required: ['basketId', 'expectedWeightG', 'measuredWeightG'] },
    },
  ],
} as const;

export const kioskStatusSchema = {
  $id: 'kiosk/status',
  type: 'object',
  additionalProperties: false,
  required: ['state', 'ts'],
  properties: {
    state: { enum: ['idle', 'in-use', 'assist', 'out-of-service'] },
    firmware: { type: 'string', maxLength: 32 },
    ts,
  },
} as const;

/** Gateway → label command. Devices never publish it; simulators and tests validate against it. */
export const eslCommandSchema = {
  $id: 'esl/cmd',
  type: 'object',
  additionalProperties: false,
  required: ['cmdId', 'type', 'ts'],
  properties: {
    cmdId: { type: 'string', minLength: 1, maxLength: 64 },
    type: { enum: ['set-price'] },
    sku,
    priceCents,
    ts,
  },
} as const;

/** Schema of each inbound channel, keyed `<kind>/<channel>`. */
export const INBOUND_SCHEMAS = {
  'shelf/weight': shelfWeightSchema,
  'shelf/status': shelfStatusSchema,
  'shelf/ack': ackSchema('shelf/ack'),
  'esl/status': eslStatusSchema,
  'esl/ack': eslAckSchema,
  'kiosk/event': kioskEventSchema,
  'kiosk/status': kioskStatusSchema,
  'kiosk/ack': ackSchema('kiosk/ack'),
} as const;

export type InboundSchemaKey = keyof typeof INBOUND_SCHEMAS;
export type SchemaKeyOf<K extends DeviceKind> = Extract<InboundSchemaKey, `${K}/${string}`>;
