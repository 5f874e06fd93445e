/**
 * Hostile input, issue 8: a client announces a huge packet (256 MB PUBLISH) and streams its body, before CONNECT and
 * after a valid CONNECT. The frame guard must close the connection on the fixed header, before the body is buffered.
 * (Without the guard, measured here: no attacker is closed within 3 s, all 8 MB of each go in, RSS grows ~67 MB.)
 */
import { connect, type Socket } from 'node:net';
import mqttPacket from 'mqtt-packet';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { encodeRemainingLength } from '../helpers/mqtt-bytes.js';

const MB = 1024 * 1024;
const ANNOUNCED_BYTES = 256 * MB - 1; // the largest remaining length MQTT can encode
const STREAMED_BYTES = 8 * MB;
const WEIGHT_TOPIC = (id: string) => `store/test-store/shelf/${id}/weight`;

/** A PUBLISH fixed header + topic that announces `remainingLength` bytes; the body is whatever is streamed after it. */
function hugePublishHeader(remainingLength: number): Buffer {
  const lengthBytes = encodeRemainingLength(remainingLength);
  const topic = Buffer.from(WEIGHT_TOPIC('huge-1'));
  const topicLength = Buffer.alloc(2);
  topicLength.writeUInt16BE(topic.length);
  return Buffer.concat([Buffer.from([0x30, ...lengthBytes]), topicLength, topic]);
}

type RawClient = { socket: Socket; packets: mqttPacket.Packet[]; closed: Promise<number> };

/** A raw TCP client that parses what the broker sends back; `closed` resolves with the time the socket closed. */
function openRaw(port: number): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const parser = mqttPacket.parser();
    const packets: mqttPacket.Packet[] = [];
    parser.on('packet', (packet) => packets.push(packet));
    socket.on('data', (chunk) => parser.parse(chunk));
    socket.on('error', () => undefined); // EPIPE / ECONNRESET are the expected outcome of these attacks
    const closed = new Promise<number>((done) => socket.once('close', () => done(Date.now())));
    socket.once('connect', () => resolve({ socket, packets, closed }));
    socket.once('error', reject);
  });
}

/** Writes `totalBytes` of filler after the header, honouring backpressure, until done or the socket closes. */
async function streamBody(socket: Socket, totalBytes: number): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let sent = 0;
  while (sent < totalBytes && !socket.destroyed && socket.writable) {
    const ok = socket.write(chunk);
    sent += chunk.length;
    if (!ok) {
      await new Promise<void>((resolve) => {
        const done = () => {
          socket.off('drain', done);
          socket.off('close', done);
          resolve();
        };
        socket.on('drain', done);
        socket.on('close', done);
      });
    }
  }
  return sent;
}

describe('a client announcing a 256 MB packet', () => {
  let gw: TestGateway;
  let bystander: MqttClient;
  const raws: Socket[] = [];
  const tooLarge = () => gw.built.metrics.value('smartstore_mqtt_connections_rejected_total', { reason: 'packet-too-large' });
  const accepted = () => gw.built.metrics.value('smartstore_device_messages_total', { channel: 'shelf/weight' });

  /** The bystander publishes one reading (QoS 1) and the gateway ingests it. */
  async function bystanderStillPublishes(): Promise<void> {
    const before = await accepted();
    await bystander.publishAsync(WEIGHT_TOPIC('shelf-a'), JSON.stringify({ facing: 1, weightG: 5200, ts: Date.now() }), { qos: 1 });
    await eventually(async () => ((await accepted()) === before + 1 ? true : undefined), 2_000, 'the bystander reading');
  }

  beforeAll(async () => {
    gw = await startTestGateway();
    bystander = await gw.connectDevice('shelf-a', 'shelf');
    await bystanderStillPublishes();
  });
  afterAll(async () => {
    for (const socket of raws) socket.destroy();
    await gw?.dispose();
  });

  async function attack(raw: RawClient): Promise<{ closedAfterMs: number; sentBytes: number; rssGrowthMb: number }> {
    raws.push(raw.socket);
    const rssBefore = process.memoryUsage().rss;
    const headerAt = Date.now();
    raw.socket.write(hugePublishHeader(ANNOUNCED_BYTES));
    const sentBytes = await streamBody(raw.socket, STREAMED_BYTES);
    let timer: NodeJS.Timeout | undefined;
    const closedAt = await Promise.race([raw.closed, new Promise<number>((r) => (timer = setTimeout(() => r(Infinity), 3_000)))]);
    clearTimeout(timer);
    const closedAfterMs = closedAt - headerAt;
    const rssGrowthMb = (process.memoryUsage().rss - rssBefore) / MB;
    return { closedAfterMs, sentBytes, rssGrowthMb };
  }

  it('before CONNECT: closes on the header, buffers nothing, counts packet-too-large', async () => {
    const before = await tooLarge();
    const raw = await openRaw(gw.built.broker.port);
    const { closedAfterMs, sentBytes, rssGrowthMb } = await attack(raw);

    expect(closedAfterMs).toBeLessThan(1_000);
    // the broker stopped reading long before the 8 MB were through: at most a few socket buffers went out
    expect(sentBytes).toBeLessThan(STREAMED_BYTES);
    expect(rssGrowthMb).toBeLessThan(20);
    expect(raw.packets).toEqual([]);
    expect(await tooLarge()).toBe(before + 1);
    await bystanderStillPublishes();
  });

  it('after a valid CONNECT: closes on the header, buffers nothing, counts packet-too-large', async () => {
    const secret = await gw.built.devices.registry.provision('huge-1', 'shelf');
    const before = await tooLarge();
    const raw = await openRaw(gw.built.broker.port);
    raw.socket.write(
      mqttPacket.generate({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clean: true,
        keepalive: 30,
        clientId: 'huge-1',
        username: 'huge-1',
        password: Buffer.from(secret),
      }),
    );
    const connack = await eventually(() => raw.packets.find((p) => p.cmd === 'connack'), 2_000, 'CONNACK');
    expect(connack).toMatchObject({ cmd: 'connack', returnCode: 0 });

    const acceptedBefore = await accepted();
    const { closedAfterMs, sentBytes, rssGrowthMb } = await attack(raw);
    expect(closedAfterMs).toBeLessThan(1_000);
    expect(sentBytes).toBeLessThan(STREAMED_BYTES);
    expect(rssGrowthMb).toBeLessThan(20);
    expect(await tooLarge()).toBe(before + 1);
    // nothing of the huge PUBLISH reached the pipelines, and the device shows as disconnected
    expect(await accepted()).toBe(acceptedBefore);
    await eventually(() => (gw.built.broker.connectedDevices === 1 ? true : undefined), 2_000, 'the attacker to be gone');
    await bystanderStillPublishes();
  });

  it('ten attackers in parallel: all closed, memory flat, a new device connects and publishes afterwards', async () => {
    const before = await tooLarge();
    const rssBefore = process.memoryUsage().rss;
    const raws10 = await Promise.all(Array.from({ length: 10 }, () => openRaw(gw.built.broker.port)));
    const results = await Promise.all(raws10.map((raw) => attack(raw)));
    const rssGrowthMb = (process.memoryUsage().rss - rssBefore) / MB;

    for (const result of results) {
      expect(result.closedAfterMs).toBeLessThan(2_000);
      expect(result.sentBytes).toBeLessThan(STREAMED_BYTES);
    }
    // ten times 256 MB announced, 80 MB offered: unguarded, the broker would hold tens of MB here
    expect(rssGrowthMb).toBeLessThan(20);
    expect(await tooLarge()).toBe(before + 10);

    await bystanderStillPublishes();
    const late = await gw.connectDevice('shelf-late', 'shelf');
    const acceptedBefore = await accepted();
    await late.publishAsync(WEIGHT_TOPIC('shelf-late'), JSON.stringify({ facing: 1, weightG: 10, ts: Date.now() }), { qos: 1 });
    await eventually(async () => ((await accepted()) === acceptedBefore + 1 ? true : undefined), 2_000, 'the late device reading');
  });
});
