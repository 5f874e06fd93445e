import { generate } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { MqttFrameScanner } from '../../../edge/broker/frame-guard.js';
import { encodeRemainingLength } from '../../helpers/mqtt-bytes.js';

const publish = (payloadBytes: number, topic = 'store/s1/shelf/sh1/weight'): Buffer =>
  generate({ cmd: 'publish', topic, payload: Buffer.alloc(payloadBytes, 0x61), qos: 0, dup: false, retain: false });

const PACKETS: Buffer[] = [
  generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: true,
    clientId: 'sh1',
    keepalive: 30,
    username: 'sh1',
    password: Buffer.from('secret'),
  }),
  publish(0),
  publish(40),
  publish(200), // two-byte remaining length
  generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'store/s1/shelf/sh1/cmd', qos: 1 }] }),
  generate({ cmd: 'pingreq' }),
  generate({ cmd: 'puback', messageId: 7 }),
  generate({ cmd: 'disconnect' }),
];
const STREAM = Buffer.concat(PACKETS);
const LARGEST = Math.max(...PACKETS.map((p) => p.length));

const encodeLength = encodeRemainingLength;

/** the fixed header of a PUBLISH announcing `total` bytes in all (header included); the body never needs to exist */
function publishHeader(total: number): Buffer {
  for (let lengthBytes = 1; lengthBytes <= 4; lengthBytes++) {
    const encoded = encodeLength(total - 1 - lengthBytes);
    if (encoded.length === lengthBytes) return Buffer.from([0x30, ...encoded]);
  }
  throw new Error(`cannot announce ${total} bytes`);
}

describe('MqttFrameScanner', () => {
  it('the test packets are real MQTT packets of the expected sizes', () => {
    expect(publish(200).length).toBe(1 + 2 + 2 + 'store/s1/shelf/sh1/weight'.length + 200);
    expect(PACKETS.find((p) => p[0] === 0xc0)).toEqual(Buffer.from([0xc0, 0x00]));
  });

  it('passes many packets in one chunk', () => {
    const scanner = new MqttFrameScanner(LARGEST);
    expect(scanner.scan(Buffer.concat([STREAM, STREAM, STREAM]))).toBeUndefined();
    // and is at a packet boundary afterwards: the next header is judged as a header
    expect(scanner.scan(publishHeader(LARGEST + 1))).toEqual({ reason: 'packet-too-large', announcedBytes: LARGEST + 1 });
  });

  it('passes packets split across two chunks at every byte boundary', () => {
    for (let split = 0; split <= STREAM.length; split++) {
      const scanner = new MqttFrameScanner(LARGEST);
      expect(scanner.scan(STREAM.subarray(0, split)), `split at ${split}`).toBeUndefined();
      expect(scanner.scan(STREAM.subarray(split)), `split at ${split}`).toBeUndefined();
      expect(scanner.scan(publishHeader(LARGEST + 1)), `split at ${split}`).toEqual({
        reason: 'packet-too-large',
        announcedBytes: LARGEST + 1,
      });
    }
  });

  it('passes a stream fed one byte at a time', () => {
    const scanner = new MqttFrameScanner(LARGEST);
    for (let i = 0; i < STREAM.length; i++) expect(scanner.scan(STREAM.subarray(i, i + 1)), `byte ${i}`).toBeUndefined();
    expect(scanner.scan(publishHeader(LARGEST + 1))).toEqual({ reason: 'packet-too-large', announcedBytes: LARGEST + 1 });
  });

  it('a packet exactly at the limit passes; one byte over fails with the announced size', () => {
    for (const payloadBytes of [0, 50, 94, 95, 200, 20_000]) {
      const packet = publish(payloadBytes);
      expect(new MqttFrameScanner(packet.length).scan(packet), `${packet.length} bytes at the limit`).toBeUndefined();
      expect(new MqttFrameScanner(packet.length - 1).scan(packet)).toEqual({ reason: 'packet-too-large', announcedBytes: packet.length });
    }
  });

  it('a too large packet is refused as soon as its header is complete, before the body arrives', () => {
    const scanner = new MqttFrameScanner(16_384);
    const header = publishHeader(256 * 1024 * 1024 - 1);
    expect(header.length).toBe(5);
    expect(scanner.scan(header.subarray(0, 4))).toBeUndefined();
    expect(scanner.scan(header.subarray(4))).toEqual({ reason: 'packet-too-large', announcedBytes: 256 * 1024 * 1024 - 1 });
  });

  it('a too large packet after good ones in the same chunk is found', () => {
    const big = publish(20_000);
    const scanner = new MqttFrameScanner(LARGEST);
    expect(scanner.scan(Buffer.concat([STREAM, big]))).toEqual({ reason: 'packet-too-large', announcedBytes: big.length });
  });

  it('a remaining length of 5 bytes is malformed (MQTT allows at most 4)', () => {
    const header = Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    expect(new MqttFrameScanner(Number.MAX_SAFE_INTEGER).scan(header)).toEqual({ reason: 'malformed-length' });
    const split = new MqttFrameScanner(Number.MAX_SAFE_INTEGER);
    expect(split.scan(header.subarray(0, 3))).toBeUndefined();
    expect(split.scan(header.subarray(3))).toEqual({ reason: 'malformed-length' });
  });

  it('the largest 4-byte remaining length is well-formed', () => {
    const header = Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f]);
    expect(new MqttFrameScanner(268_435_455 + 5).scan(header)).toBeUndefined();
    expect(new MqttFrameScanner(268_435_455 + 4).scan(header)).toEqual({ reason: 'packet-too-large', announcedBytes: 268_435_455 + 5 });
  });

  it('packet type 0 is reserved, also after valid packets', () => {
    expect(new MqttFrameScanner(1_000).scan(Buffer.from([0x00, 0x00]))).toEqual({ reason: 'reserved-packet-type' });
    expect(new MqttFrameScanner(1_000).scan(Buffer.from([0x0f]))).toEqual({ reason: 'reserved-packet-type' });
    const scanner = new MqttFrameScanner(LARGEST);
    expect(scanner.scan(Buffer.concat([STREAM, Buffer.from([0x00])]))).toEqual({ reason: 'reserved-packet-type' });
  });

  it('a zero byte inside a body is not mistaken for a header', () => {
    const packet = generate({ cmd: 'publish', topic: 't', payload: Buffer.alloc(10, 0), qos: 0, dup: false, retain: false });
    expect(new MqttFrameScanner(100).scan(Buffer.concat([packet, packet]))).toBeUndefined();
  });

  it('publishHeader helper encodes what it says', () => {
    expect(publishHeader(2)).toEqual(Buffer.from([0x30, 0x00]));
    expect(publishHeader(129)).toEqual(Buffer.from([0x30, 0x7f]));
    expect(publishHeader(131)).toEqual(Buffer.from([0x30, 0x80, 0x01]));
  });
});
