import { describe, expect, it } from 'vitest';
import { DeviceMessageDecoder } from '../../../edge/device-registry/decoder.js';
import { mapSample, sampleTimestamp, type ItemSample } from '../../../edge/opcua/device-mapping.js';

const good = (value: unknown, sourceTimestampMs: number | null = 1_000): ItemSample => ({
  value,
  good: true,
  status: 'Good',
  sourceTimestampMs,
  serverTimestampMs: 2_000,
});
const caseDevice = { id: 'case-1', kind: 'case' as const };
const shelf = { id: 'shelf-x', kind: 'shelf' as const };

describe('OPC UA samples → device messages', () => {
  it('maps a case temperature to the same case/telemetry message an MQTT case sends, carrying the known door state', () => {
    const first = mapSample(caseDevice, { field: 'doorOpen' }, good(false), {}, 5_000);
    expect(first).toMatchObject({
      ok: true,
      message: { key: 'case/telemetry', deviceId: 'case-1', receivedAt: 5_000, payload: { doorOpen: false, ts: 1_000 } },
    });
    const second = mapSample(caseDevice, { field: 'temperatureC' }, good(4.5, 1_500), first.snapshot, 5_100);
    expect(second.ok && second.message).toEqual({
      key: 'case/telemetry',
      deviceId: 'case-1',
      receivedAt: 5_100,
      payload: { temperatureC: 4.5, doorOpen: false, ts: 1_500 },
    });
  });

  it('makes the message an MQTT case publishing the same values makes (the contract schema accepts it as it is)', () => {
    const decoder = new DeviceMessageDecoder();
    const mapped = mapSample(caseDevice, { field: 'temperatureC' }, good(4.5, 1_500), { doorOpen: true }, 7);
    if (!mapped.ok) throw new Error('not mapped');
    const overMqtt = decoder.decode('case/telemetry', 'case-1', Buffer.from(JSON.stringify(mapped.message.payload)), 7);
    expect(overMqtt).toEqual({ ok: true, message: mapped.message });
    // and an MQTT case message with neither field is refused, as the mapping never makes one
    expect(decoder.decode('case/telemetry', 'case-1', Buffer.from('{"ts":1}'), 7)).toMatchObject({ ok: false, reason: 'schema' });
  });

  it('reads a 0/1 door contact as a boolean', () => {
    const result = mapSample(caseDevice, { field: 'doorOpen' }, good(1), {}, 0);
    expect(result.ok && result.message.payload).toMatchObject({ doorOpen: true });
  });

  it('maps a shelf controller weight to shelf/weight of its facing', () => {
    const result = mapSample(shelf, { field: 'weightG', facing: 3 }, good(2841.5), {}, 9);
    expect(result.ok && result.message).toEqual({
      key: 'shelf/weight',
      deviceId: 'shelf-x',
      receivedAt: 9,
      payload: { facing: 3, weightG: 2841.5, ts: 1_000 },
    });
  });

  it('refuses a Bad value and forgets the field, so the last good temperature is not reported again', () => {
    const bad: ItemSample = { value: null, good: false, status: 'BadSensorFailure', sourceTimestampMs: null, serverTimestampMs: null };
    const result = mapSample(caseDevice, { field: 'temperatureC' }, bad, { temperatureC: 3, doorOpen: false }, 0);
    expect(result).toMatchObject({ ok: false, reason: 'bad-status', detail: 'BadSensorFailure', snapshot: { doorOpen: false } });
    expect(result.snapshot).not.toHaveProperty('temperatureC');
  });

  it('refuses wrong types and values outside the contract', () => {
    expect(mapSample(caseDevice, { field: 'temperatureC' }, good('4.5'), {}, 0)).toMatchObject({ ok: false, reason: 'wrong-type' });
    expect(mapSample(caseDevice, { field: 'temperatureC' }, good(Number.NaN), {}, 0)).toMatchObject({ ok: false, reason: 'wrong-type' });
    expect(mapSample(caseDevice, { field: 'temperatureC' }, good(250), {}, 0)).toMatchObject({ ok: false, reason: 'out-of-range' });
    expect(mapSample(caseDevice, { field: 'doorOpen' }, good('open'), {}, 0)).toMatchObject({ ok: false, reason: 'wrong-type' });
    expect(mapSample(shelf, { field: 'weightG', facing: 1 }, good(2_000_000), {}, 0)).toMatchObject({ ok: false, reason: 'out-of-range' });
    // a field that does not belong to the kind
    expect(mapSample(shelf, { field: 'temperatureC' }, good(3), {}, 0)).toMatchObject({ ok: false });
  });

  it('takes the source timestamp, else the server timestamp, else the arrival time', () => {
    expect(sampleTimestamp({ sourceTimestampMs: 10, serverTimestampMs: 20 }, 30)).toBe(10);
    expect(sampleTimestamp({ sourceTimestampMs: null, serverTimestampMs: 20 }, 30)).toBe(20);
    expect(sampleTimestamp({ sourceTimestampMs: null, serverTimestampMs: null }, 30)).toBe(30);
    expect(sampleTimestamp({ sourceTimestampMs: -5, serverTimestampMs: null }, 30)).toBe(30);
  });
});
