/** Typed payloads of the device contract (mirrors edge/devices/schemas.ts). */
import type { KIOSK_EVENT_TYPES } from './schemas.js';

export type ShelfWeight = { facing: number; weightG: number; ts: number };
export type ShelfStatus = { firmware?: string; tempC?: number; faults?: string[]; ts: number };
export type EslStatus = {
  batteryMv: number;
  displayedPriceCents: number | null;
  sku?: string;
  firmware?: string;
  rssiDbm?: number;
  ts: number;
};
/** A device's answer to a command, on `<kind>/<id>/ack`. */
export type DeviceAck = { cmdId: string; ok: boolean; error?: string; displayedPriceCents?: number; ts: number };
export type KioskEventType = (typeof KIOSK_EVENT_TYPES)[number];
export type KioskEvent = {
  type: KioskEventType;
  basketId?: string;
  sku?: string;
  qty?: number;
  priceCents?: number;
  expectedWeightG?: number;
  measuredWeightG?: number;
  reason?: string;
  ts: number;
};
export type KioskStatus = { state: 'idle' | 'in-use' | 'assist' | 'out-of-service'; firmware?: string; ts: number };
export type EslCommand = { cmdId: string; type: 'set-price'; sku?: string; priceCents?: number; ts: number };

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
  | Envelope<'kiosk/status', KioskStatus>;
