/**
 * Hostile input, issue 8: broken payloads on a device's own topics — not JSON, not an object, schema violations,
 * unknown fields, prototype keys, absurd numbers, deep nesting. Each is dropped and counted in
 * `smartstore_device_messages_invalid_total{reason}`; the device stays connected and its next valid message counts.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const T = (kind: string, id: string, channel: string) => `store/test-store/${kind}/${id}/${channel}`;
const NOW = 1_764_000_000_000;
const UNIT_G = 1040; // oat milk, shelf-a facing 1

type Case = [name: string, topic: string, payload: string | Buffer, reason: 'bad-json' | 'schema' | 'unknown-facing'];

const WEIGHT = T('shelf', 'shelf-a', 'weight');
const CASES: Case[] = [
  // not JSON at all
  ['truncated JSON', WEIGHT, '{"facing":1,"weightG":', 'bad-json'],
  ['an empty payload', WEIGHT, '', 'bad-json'],
  ['binary garbage', WEIGHT, Buffer.from([0x00, 0xff, 0x13, 0x37, 0x80, 0x7f]), 'bad-json'],
  ['invalid UTF-8 outside strings', WEIGHT, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'bad-json'],
  ['a UTF-8 byte order mark', WEIGHT, `\ufeff${JSON.stringify({ facing: 1, weightG: 5, ts: NOW })}`, 'bad-json'],
  ['NaN', WEIGHT, '{"facing":1,"weightG":NaN,"ts":1}', 'bad-json'],
  ['single quotes', WEIGHT, "{'facing':1}", 'bad-json'],
  // deep nesting, as deep as fits in maxPacketBytes (16 KiB)
  ['7,000 nested arrays', WEIGHT, '['.repeat(7_000) + ']'.repeat(7_000), 'schema'],
  ['3,000 unterminated nested objects', WEIGHT, '{"a":'.repeat(3_000), 'bad-json'],
  // JSON, but not the object the contract asks for
  ['null', WEIGHT, 'null', 'schema'],
  ['a number', WEIGHT, '42', 'schema'],
  ['a string', WEIGHT, '"hello"', 'schema'],
  ['an array of readings', WEIGHT, JSON.stringify([{ facing: 1, weightG: 5, ts: NOW }]), 'schema'],
  ['an empty object', WEIGHT, '{}', 'schema'],
  ['a missing ts', WEIGHT, JSON.stringify({ facing: 1, weightG: 5 }), 'schema'],
  ['facing as a string', WEIGHT, JSON.stringify({ facing: '1', weightG: 5, ts: NOW }), 'schema'],
  ['facing 1.5', WEIGHT, JSON.stringify({ facing: 1.5, weightG: 5, ts: NOW }), 'schema'],
  ['facing 0', WEIGHT, JSON.stringify({ facing: 0, weightG: 5, ts: NOW }), 'schema'],
  ['facing 65', WEIGHT, JSON.stringify({ facing: 65, weightG: 5, ts: NOW }), 'schema'],
  ['weightG 1e309 (Infinity)', WEIGHT, '{"facing":1,"weightG":1e309,"ts":1}', 'schema'],
  ['weightG a 400-digit number', WEIGHT, `{"facing":1,"weightG":${'9'.repeat(400)},"ts":1}`, 'schema'],
  ['weightG null', WEIGHT, JSON.stringify({ facing: 1, weightG: null, ts: NOW }), 'schema'],
  ['a negative ts', WEIGHT, JSON.stringify({ facing: 1, weightG: 5, ts: -1 }), 'schema'],
  ['an unknown field', WEIGHT, JSON.stringify({ facing: 1, weightG: 5, ts: NOW, battery: 3 }), 'schema'],
  ['a "__proto__" key', WEIGHT, `{"facing":1,"weightG":5,"ts":${NOW},"__proto__":{"polluted":true}}`, 'schema'],
  ['a "constructor.prototype" key', WEIGHT, `{"facing":1,"weightG":5,"ts":${NOW},"constructor":{"prototype":{"polluted":true}}}`, 'schema'],
  ['a facing not in the planogram', WEIGHT, JSON.stringify({ facing: 9, weightG: 5, ts: NOW }), 'unknown-facing'],
  [
    'shelf status: 17 faults',
    T('shelf', 'shelf-a', 'status'),
    JSON.stringify({ faults: Array.from({ length: 17 }, () => 'x'), ts: NOW }),
    'schema',
  ],
  ['shelf status: tempC as a string', T('shelf', 'shelf-a', 'status'), JSON.stringify({ tempC: '21.5', ts: NOW }), 'schema'],
  [
    'label status: a fractional price',
    T('esl', 'esl-1', 'status'),
    JSON.stringify({ batteryMv: 2980, displayedPriceCents: 1.99, ts: NOW }),
    'schema',
  ],
  [
    'label status: a 65-character sku',
    T('esl', 'esl-1', 'status'),
    JSON.stringify({ batteryMv: 2980, displayedPriceCents: 199, sku: 'x'.repeat(65), ts: NOW }),
    'schema',
  ],
  ['label ack: ok as a string', T('esl', 'esl-1', 'ack'), JSON.stringify({ cmdId: 'c-1', ok: 'true', ts: NOW }), 'schema'],
  ['label ack: an empty cmdId', T('esl', 'esl-1', 'ack'), JSON.stringify({ cmdId: '', ok: true, ts: NOW }), 'schema'],
  ['kiosk event: an unknown type', T('kiosk', 'kiosk-1', 'event'), JSON.stringify({ type: 'self-destruct', ts: NOW }), 'schema'],
  [
    'kiosk event: item-scanned without a basket',
    T('kiosk', 'kiosk-1', 'event'),
    JSON.stringify({ type: 'item-scanned', sku: '4000000000017', qty: 1, ts: NOW }),
    'schema',
  ],
  [
    'kiosk event: qty 0',
    T('kiosk', 'kiosk-1', 'event'),
    JSON.stringify({ type: 'item-scanned', basketId: 'b', sku: '4000000000017', qty: 0, ts: NOW }),
    'schema',
  ],
  [
    'kiosk event: weight-mismatch without weights',
    T('kiosk', 'kiosk-1', 'event'),
    JSON.stringify({ type: 'weight-mismatch', basketId: 'b', ts: NOW }),
    'schema',
  ],
  ['kiosk status: an unknown state', T('kiosk', 'kiosk-1', 'status'), JSON.stringify({ state: 'on-fire', ts: NOW }), 'schema'],
];

describe('broken payloads on device topics', () => {
  let gw: TestGateway;
  const devices = new Map<string, MqttClient>();
  const disconnects: string[] = [];
  const metric = (name: string, labels: Record<string, string> = {}) => gw.built.metrics.value(name, labels);

  beforeAll(async () => {
    gw = await startTestGateway();
    devices.set('shelf-a', await gw.connectDevice('shelf-a', 'shelf'));
    devices.set('esl-1', await gw.connectDevice('esl-1', 'esl'));
    devices.set('kiosk-1', await gw.connectDevice('kiosk-1', 'kiosk'));
    gw.built.bus.on('device.connection', 'test', (event) => {
      if (!event.connected) disconnects.push(event.deviceId);
    });
  });
  afterAll(async () => gw?.dispose());

  const deviceOf = (topic: string) => devices.get(topic.split('/')[3] as string) as MqttClient;

  it.each(CASES)('%s: dropped and counted as %s, the device stays connected', async (_name, topic, payload, reason) => {
    const invalidBefore = await metric('smartstore_device_messages_invalid_total', { reason });
    const allInvalidBefore = await metric('smartstore_device_messages_invalid_total');
    await deviceOf(topic).publishAsync(topic, payload, { qos: 1 }); // PUBACK: it was received, not refused
    await eventually(
      async () => ((await metric('smartstore_device_messages_invalid_total', { reason })) === invalidBefore + 1 ? true : undefined),
      2_000,
      `an invalid count (${reason})`,
    );
    expect(await metric('smartstore_device_messages_invalid_total')).toBe(allInvalidBefore + 1);
    expect(deviceOf(topic).connected).toBe(true);
  });

  it('counted every case once, accepted none of them, polluted no prototype, and disconnected nobody', async () => {
    const expected = { 'bad-json': 0, schema: 0, 'unknown-facing': 0 };
    for (const [, , , reason] of CASES) expected[reason]++;
    for (const [reason, count] of Object.entries(expected))
      expect(await metric('smartstore_device_messages_invalid_total', { reason })).toBe(count);
    // the unknown facing passed the decoder (it is valid JSON of the schema) and was dropped by the pipeline
    expect(await metric('smartstore_device_messages_total')).toBe(expected['unknown-facing']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(disconnects).toEqual([]);
    expect(gw.built.broker.connectedDevices).toBe(3);
  });

  it('processes the valid messages that follow: stock, label status and a kiosk alert', async () => {
    const shelf = devices.get('shelf-a') as MqttClient;
    await shelf.publishAsync(WEIGHT, JSON.stringify({ facing: 1, weightG: 7 * UNIT_G + 2, ts: Date.now() }), { qos: 1 });
    await devices
      .get('esl-1')
      ?.publishAsync(T('esl', 'esl-1', 'status'), JSON.stringify({ batteryMv: 2980, displayedPriceCents: 199, ts: Date.now() }), {
        qos: 1,
      });
    await devices
      .get('kiosk-1')
      ?.publishAsync(T('kiosk', 'kiosk-1', 'event'), JSON.stringify({ type: 'assist-requested', ts: Date.now() }), { qos: 1 });

    const units = await eventually(
      async () => {
        const body = (await (await gw.api('/api/shelves')).json()) as {
          shelves: { id: string; facings: { facing: number; units: number | null }[] }[];
        };
        const facing = body.shelves.find((s) => s.id === 'shelf-a')?.facings.find((f) => f.facing === 1);
        return facing?.units ?? undefined;
      },
      2_000,
      'the shelf reading',
    );
    expect(units).toBe(7);
    await eventually(
      async () => ((await metric('smartstore_device_messages_total', { channel: 'esl/status' })) === 1 ? true : undefined),
      2_000,
      'the label status',
    );
    const alerts = await eventually(
      async () => {
        const body = (await (await gw.api('/api/alerts?kind=kiosk-assist')).json()) as { alerts: { deviceId: string }[] };
        return body.alerts.length ? body.alerts : undefined;
      },
      2_000,
      'the kiosk alert',
    );
    expect(alerts).toMatchObject([{ deviceId: 'kiosk-1' }]);
  });
});
