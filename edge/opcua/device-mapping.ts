/**
 * OPC UA values → the typed device messages of the device contract, the same an MQTT device of the kind publishes:
 * a case's `case/telemetry`, a shelf controller's `shelf/weight`. Pure: the session hands in a plain sample (value,
 * status, timestamps) taken from node-opcua's DataValue, so this file never loads node-opcua.
 */
import type { DeviceMessage } from '../device-registry/messages.js';
import type { OpcuaDeviceKind, OpcuaItemField } from './opcua-devices-config.js';

/** One notification of one monitored item, as plain data. */
export type ItemSample = {
  value: unknown;
  /** the StatusCode is Good (or Uncertain with a value worth using is still refused: staff act on these values) */
  good: boolean;
  /** StatusCode name, for logs and counts, e.g. 'Good', 'BadNodeIdUnknown' */
  status: string;
  sourceTimestampMs: number | null;
  serverTimestampMs: number | null;
};

export type MappedItem = { field: OpcuaItemField; facing?: number | undefined };

/** What the driver knows of a case between notifications: each item reports on its own, a message carries both. */
export type CaseSnapshot = { temperatureC?: number; doorOpen?: boolean };

export type SampleRejection = 'bad-status' | 'wrong-type' | 'out-of-range';

export type MapResult =
  | { ok: true; message: DeviceMessage; snapshot: CaseSnapshot }
  | { ok: false; reason: SampleRejection; detail: string; snapshot: CaseSnapshot };

/** The bounds of the device-contract schemas (edge/device-registry/schemas.ts): a mapped message always validates. */
const TEMPERATURE_RANGE_C = [-60, 100] as const;
const WEIGHT_RANGE_G = [-100_000, 1_000_000] as const;
const MAX_TS = 8_640_000_000_000_000;

/**
 * The device clock of a sample: its source timestamp (when the controller measured), else the server's, else the
 * gateway's clock when it arrived.
 */
export function sampleTimestamp(sample: Pick<ItemSample, 'sourceTimestampMs' | 'serverTimestampMs'>, receivedAt: number): number {
  const ts = sample.sourceTimestampMs ?? sample.serverTimestampMs ?? receivedAt;
  return Number.isFinite(ts) && ts >= 0 && ts <= MAX_TS ? Math.round(ts) : receivedAt;
}

function numberIn(
  value: unknown,
  [min, max]: readonly [number, number],
): { ok: true; value: number } | { ok: false; reason: SampleRejection; detail: string } {
  // Int64 values arrive as [high, low] arrays, and some controllers publish numbers as strings: neither is a reading
  if (typeof value !== 'number' || !Number.isFinite(value))
    return { ok: false, reason: 'wrong-type', detail: `expected a finite number, got ${describe(value)}` };
  if (value < min || value > max) return { ok: false, reason: 'out-of-range', detail: `${value} outside ${min}..${max}` };
  return { ok: true, value };
}

function booleanOf(value: unknown): { ok: true; value: boolean } | { ok: false; reason: SampleRejection; detail: string } {
  if (typeof value === 'boolean') return { ok: true, value };
  // door contacts on PLCs are often a 0/1 integer
  if (value === 0 || value === 1) return { ok: true, value: value === 1 };
  return { ok: false, reason: 'wrong-type', detail: `expected a boolean, got ${describe(value)}` };
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return `string ${value.slice(0, 32)}`;
    case 'number':
    case 'boolean':
    case 'bigint':
      return `${typeof value} ${String(value).slice(0, 32)}`;
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

/** The snapshot without the field: a case whose sensor went Bad must not keep reporting its last good value. */
function without(snapshot: CaseSnapshot, field: OpcuaItemField): CaseSnapshot {
  if (field !== 'temperatureC' && field !== 'doorOpen') return snapshot;
  if (!(field in snapshot)) return snapshot;
  const { [field]: _dropped, ...rest } = snapshot;
  return rest;
}

/**
 * One sample of one item → the device message it makes, with the case snapshot after it. A case message carries every
 * field known (the temperature with the door state and vice versa), so a consumer needs no state of its own; a shelf
 * message is one facing's weight.
 */
export function mapSample(
  device: { id: string; kind: OpcuaDeviceKind },
  item: MappedItem,
  sample: ItemSample,
  snapshot: CaseSnapshot,
  receivedAt: number,
): MapResult {
  if (!sample.good) return { ok: false, reason: 'bad-status', detail: sample.status, snapshot: without(snapshot, item.field) };
  const ts = sampleTimestamp(sample, receivedAt);
  if (item.field === 'weightG') {
    const weight = numberIn(sample.value, WEIGHT_RANGE_G);
    if (!weight.ok) return { ...weight, snapshot };
    if (device.kind !== 'shelf' || item.facing === undefined)
      return { ok: false, reason: 'wrong-type', detail: 'weightG needs a shelf device and a facing', snapshot };
    return {
      ok: true,
      message: { key: 'shelf/weight', deviceId: device.id, receivedAt, payload: { facing: item.facing, weightG: weight.value, ts } },
      snapshot,
    };
  }
  let next: CaseSnapshot;
  if (item.field === 'temperatureC') {
    const temperature = numberIn(sample.value, TEMPERATURE_RANGE_C);
    if (!temperature.ok) return { ...temperature, snapshot: without(snapshot, item.field) };
    next = { ...snapshot, temperatureC: temperature.value };
  } else {
    const door = booleanOf(sample.value);
    if (!door.ok) return { ...door, snapshot: without(snapshot, item.field) };
    next = { ...snapshot, doorOpen: door.value };
  }
  if (device.kind !== 'case') return { ok: false, reason: 'wrong-type', detail: `${item.field} needs a case device`, snapshot };
  return { ok: true, message: { key: 'case/telemetry', deviceId: device.id, receivedAt, payload: { ...next, ts } }, snapshot: next };
}
