/** Typed payloads of the device contract, derived from the schemas in edge/device-registry/schemas.ts. */
import type { Static } from 'typebox';
import type {
  apAckSchema,
  apCommandSchema,
  apLabelsSchema,
  caseTelemetrySchema,
  eslAckSchema,
  eslCommandSchema,
  eslStatusSchema,
  KIOSK_EVENT_TYPES,
  kioskEventSchema,
  kioskStatusSchema,
  shelfStatusSchema,
  shelfWeightSchema,
} from './schemas.js';

export type ShelfWeight = Static<typeof shelfWeightSchema>;
export type ShelfStatus = Static<typeof shelfStatusSchema>;
export type EslStatus = Static<typeof eslStatusSchema>;
/** A device's answer to a command, on `<kind>/<id>/ack` (the same schema for every kind). */
export type DeviceAck = Static<typeof eslAckSchema>;
export type KioskEventType = (typeof KIOSK_EVENT_TYPES)[number];
export type KioskEvent = Static<typeof kioskEventSchema>;
export type KioskStatus = Static<typeof kioskStatusSchema>;
export type EslCommand = Static<typeof eslCommandSchema>;
export type CaseTelemetry = Static<typeof caseTelemetrySchema>;
/** An access point's batch of label check-ins, acks, and the gateway's batch of label commands to it. */
export type ApLabels = Static<typeof apLabelsSchema>;
export type ApLabelReport = ApLabels['labels'][number];
export type ApAcks = Static<typeof apAckSchema>;
export type ApLabelAck = ApAcks['acks'][number];
export type ApCommand = Static<typeof apCommandSchema>;
export type ApLabelCommand = ApCommand['commands'][number];

type Envelope<Key extends string, P> = {
  /** `<kind>/<channel>` */
  key: Key;
  deviceId: string;
  payload: P;
  /** gateway clock when the message was accepted, ms */
  receivedAt: number;
};

/** A validated message from a device: what pipelines consume. */
export type DeviceMessage =
  | Envelope<'shelf/weight', ShelfWeight>
  | Envelope<'shelf/status', ShelfStatus>
  | Envelope<'esl/status', EslStatus>
  | Envelope<'esl/ack', DeviceAck>
  | Envelope<'shelf/ack', DeviceAck>
  | Envelope<'kiosk/ack', DeviceAck>
  | Envelope<'kiosk/event', KioskEvent>
  | Envelope<'kiosk/status', KioskStatus>
  | Envelope<'case/telemetry', CaseTelemetry>
  | Envelope<'ap/labels', ApLabels>
  | Envelope<'ap/ack', ApAcks>;
