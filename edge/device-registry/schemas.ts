/**
 * Schemas of every device message, one per (kind, channel), in TypeBox: each is the JSON Schema of the contract
 * documented in docs/device-contract.md (compiled once at start by `DeviceMessageDecoder`) and, through `Static`, the
 * payload type in messages.ts. Change a message here and both follow.
 */
import { Type } from 'typebox';
import type { DeviceKind } from './topics.js';

const ts = Type.Integer({ minimum: 0, maximum: 8_640_000_000_000_000, description: 'device clock, ms since epoch' });
const sku = Type.String({ minLength: 1, maxLength: 64 });
const priceCents = Type.Integer({ minimum: 0, maximum: 100_000_000 });
const firmware = Type.String({ maxLength: 32 });

export const KIOSK_EVENT_TYPES = [
  'basket-open',
  'item-scanned',
  'weight-mismatch',
  'assist-requested',
  'payment-succeeded',
  'payment-failed',
  'basket-closed',
] as const;

export const KIOSK_STATES = ['idle', 'in-use', 'assist', 'out-of-service'] as const;

export const shelfWeightSchema = Type.Object(
  {
    facing: Type.Integer({ minimum: 1, maximum: 64 }),
    weightG: Type.Number({ minimum: -100_000, maximum: 1_000_000 }),
    ts,
  },
  { $id: 'shelf/weight', additionalProperties: false },
);

export const shelfStatusSchema = Type.Object(
  {
    firmware: Type.Optional(firmware),
    tempC: Type.Optional(Type.Number({ minimum: -50, maximum: 100 })),
    faults: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 16 })),
    ts,
  },
  { $id: 'shelf/status', additionalProperties: false },
);

export const eslStatusSchema = Type.Object(
  {
    batteryMv: Type.Integer({ minimum: 0, maximum: 10_000 }),
    displayedPriceCents: Type.Union([priceCents, Type.Null()]),
    sku: Type.Optional(sku),
    firmware: Type.Optional(firmware),
    rssiDbm: Type.Optional(Type.Integer({ minimum: -150, maximum: 0 })),
    ts,
  },
  { $id: 'esl/status', additionalProperties: false },
);

/** A device's answer to a command (`cmd` channel), on its `ack` channel; the same for every kind. */
const ackSchema = <Id extends string>($id: Id) =>
  Type.Object(
    {
      cmdId: Type.String({ minLength: 1, maxLength: 64 }),
      ok: Type.Boolean(),
      error: Type.Optional(Type.String({ maxLength: 256 })),
      displayedPriceCents: Type.Optional(priceCents),
      ts,
    },
    { $id, additionalProperties: false },
  );
export const eslAckSchema = ackSchema('esl/ack');

export const kioskEventSchema = Type.Object(
  {
    type: Type.Enum(KIOSK_EVENT_TYPES),
    basketId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    sku: Type.Optional(sku),
    qty: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    priceCents: Type.Optional(priceCents),
    expectedWeightG: Type.Optional(Type.Number({ minimum: 0, maximum: 1_000_000 })),
    measuredWeightG: Type.Optional(Type.Number({ minimum: 0, maximum: 1_000_000 })),
    reason: Type.Optional(Type.String({ maxLength: 256 })),
    /** customer data: pseudonymised by the gateway as it arrives (edge/privacy), never kept as sent */
    loyaltyId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    paymentRef: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    ts,
  },
  {
    $id: 'kiosk/event',
    additionalProperties: false,
    // fields that some event types require; KioskEvent keeps them optional, as one object type for every event
    allOf: [
      { if: { properties: { type: { const: 'item-scanned' } } }, then: { required: ['basketId', 'sku', 'qty'] } },
      {
        if: { properties: { type: { const: 'weight-mismatch' } } },
        then: { required: ['basketId', 'expectedWeightG', 'measuredWeightG'] },
      },
    ],
  },
);

export const kioskStatusSchema = Type.Object(
  {
    state: Type.Enum(KIOSK_STATES),
    firmware: Type.Optional(firmware),
    ts,
  },
  { $id: 'kiosk/status', additionalProperties: false },
);

/**
 * A refrigerated case: its air temperature and whether its door is open, from the case controller (MQTT, or OPC UA
 * through edge/opcua/, which publishes the same message). A controller without a door contact sends only the
 * temperature; one of the two is always there.
 */
export const caseTelemetrySchema = Type.Object(
  {
    temperatureC: Type.Optional(Type.Number({ minimum: -60, maximum: 100 })),
    doorOpen: Type.Optional(Type.Boolean()),
    ts,
  },
  { $id: 'case/telemetry', additionalProperties: false, anyOf: [{ required: ['temperatureC'] }, { required: ['doorOpen'] }] },
);

/** Gateway → label command. Devices never publish it; simulators and tests validate against it. */
export const eslCommandSchema = Type.Object(
  {
    cmdId: Type.String({ minLength: 1, maxLength: 64 }),
    /** `set-price`: show `priceCents` (for `sku`); `flash`: blink the LED (`find`) or stop (`stop`) — find-my-facing */
    type: Type.Enum(['set-price', 'flash']),
    sku: Type.Optional(sku),
    priceCents: Type.Optional(priceCents),
    pattern: Type.Optional(Type.Enum(['find', 'stop'])),
    ts,
  },
  { $id: 'esl/cmd', additionalProperties: false },
);

/**
 * ESL access points (`ap`): one connection carries many labels, so every message is a batch, validated as one. Batches
 * are bounded twice: by count here, and by `mqtt.maxPacketBytes` (16 KiB by default) for what the AP publishes — an AP
 * splits a larger report into several messages. Label ids are the labels' own (an id or a radio MAC, hence `:`).
 */
export const AP_MAX_BATCH_ITEMS = 100;
export const LABEL_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$';
const labelId = Type.String({ pattern: LABEL_ID_PATTERN });
const labelCmdId = Type.String({ minLength: 1, maxLength: 64 });

/** AP → gateway: labels it heard from (a check-in): battery (null: unknown) and the price each one displays. */
export const apLabelsSchema = Type.Object(
  {
    labels: Type.Array(
      Type.Object(
        {
          labelId,
          batteryMv: Type.Union([Type.Integer({ minimum: 0, maximum: 10_000 }), Type.Null()]),
          displayedPriceCents: Type.Union([priceCents, Type.Null()]),
          rssiDbm: Type.Optional(Type.Integer({ minimum: -150, maximum: 0 })),
          /** when the AP heard the label, AP clock */
          seenAt: ts,
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: AP_MAX_BATCH_ITEMS },
    ),
    ts,
  },
  { $id: 'ap/labels', additionalProperties: false },
);

export const AP_ACK_STATUSES = ['shown', 'queued', 'failed'] as const;

/**
 * AP → gateway: what became of label commands, each matched by `cmdId` *and* `labelId`. `shown`: the label displays it
 * (`displayedPriceCents` says what it shows); `queued`: the AP holds it until the label checks in (a `shown` ack for
 * the same cmdId follows then); `failed`: it will not be shown (`error`; `retryable` when sending again may help).
 */
export const apAckSchema = Type.Object(
  {
    acks: Type.Array(
      Type.Object(
        {
          cmdId: labelCmdId,
          labelId,
          status: Type.Enum(AP_ACK_STATUSES),
          displayedPriceCents: Type.Optional(priceCents),
          error: Type.Optional(Type.String({ maxLength: 256 })),
          retryable: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: AP_MAX_BATCH_ITEMS },
    ),
    ts,
  },
  { $id: 'ap/ack', additionalProperties: false },
);

/** Gateway → AP: a batch of label commands on `ap/<id>/cmd`. Devices never publish it; simulators validate against it. */
export const apCommandSchema = Type.Object(
  {
    batchId: Type.String({ minLength: 1, maxLength: 64 }),
    commands: Type.Array(
      Type.Union([
        Type.Object(
          {
            cmdId: labelCmdId,
            labelId,
            type: Type.Literal('set-price'),
            sku,
            productName: Type.Optional(Type.String({ maxLength: 128 })),
            priceCents,
          },
          { additionalProperties: false },
        ),
        Type.Object(
          { cmdId: labelCmdId, labelId, type: Type.Literal('flash'), pattern: Type.Enum(['find', 'stop']) },
          { additionalProperties: false },
        ),
      ]),
      { minItems: 1, maxItems: AP_MAX_BATCH_ITEMS },
    ),
    ts,
  },
  { $id: 'ap/cmd', additionalProperties: false },
);

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
  'case/telemetry': caseTelemetrySchema,
  'ap/labels': apLabelsSchema,
  'ap/ack': apAckSchema,
} as const;

export type InboundSchemaKey = keyof typeof INBOUND_SCHEMAS;
export type SchemaKeyOf<K extends DeviceKind> = Extract<InboundSchemaKey, `${K}/${string}`>;
