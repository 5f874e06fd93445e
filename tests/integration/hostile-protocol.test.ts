/**
 * Hostile input, issue 8: bytes that are not MQTT, broken MQTT, and MQTT that breaks the device contract — garbage,
 * truncated packets, invalid UTF-8 and wildcard topics, $SYS, client id games, anonymous clients. Each is refused or
 * closed, counted where the gateway counts it (GatewayMetrics), and never disturbs the devices around it.
 */
import { connect, type Socket } from 'node:net';
import type { MqttClient } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { seededRandom } from '../../devices/random.js';

const CONNECT_TIMEOUT_MS = 300;
const DEVICE = 'shelf-x';
const OWN_STATUS = `store/test-store/shelf/${DEVICE}/status`;
const OWN_CMD = `store/test-store/shelf/${DEVICE}/cmd`;

/** Counters a hostile client can move; any change not expected by a case fails it. */
const WATCHED = [
  'smartstore_mqtt_connections_rejected_total',
  'smartstore_mqtt_publish_rejected_total',
  'smartstore_mqtt_subscribe_rejected_total',
  'smartstore_device_messages_total',
  'smartstore_device_messages_invalid_total',
];

type Counters = Map<string, number>;

async function counters(gw: TestGateway): Promise<Counters> {
  const result: Counters = new Map();
  for (const name of WATCHED) {
    const metric = gw.built.metrics.registry.getSingleMetric(name);
    for (const v of (await metric?.get())?.values ?? []) {
      const labels = Object.entries(v.labels)
        .map(([k, x]) => `${k}=${String(x)}`)
        .join(',');
      result.set(labels ? `${name}{${labels}}` : name, v.value);
    }
  }
  return result;
}

function diff(before: Counters, after: Counters): Record<string, number> {
  const changed: Record<string, number> = {};
  for (const [key, value] of after) if (value !== (before.get(key) ?? 0)) changed[key] = value - (before.get(key) ?? 0);
  return changed;
}

const rejected = (reason: string) => `smartstore_mqtt_connections_rejected_total{reason=${reason}}`;
const ACL = 'smartstore_mqtt_publish_rejected_total{reason=acl}';
const SUB_REFUSED = 'smartstore_mqtt_subscribe_rejected_total';

function str(value: Buffer | string): Buffer {
  const bytes = Buffer.from(value);
  return Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);
}

/** CONNECT built by hand: mqtt-packet refuses to generate an empty client id with clean=0, or a bad protocol name. */
function rawConnect(options: {
  clientId: string;
  username?: string;
  password?: string;
  clean?: boolean;
  keepalive?: number;
  protocol?: string;
  version?: number;
}): Buffer {
  const { clientId, username, password, clean = true, keepalive = 30, protocol = 'MQTT', version = 4 } = options;
  const flags = (username !== undefined ? 0x80 : 0) | (password !== undefined ? 0x40 : 0) | (clean ? 0x02 : 0);
  const body = Buffer.concat([
    str(protocol),
    Buffer.from([version, flags, keepalive >> 8, keepalive & 0xff]),
    str(clientId),
    ...(username !== undefined ? [str(username)] : []),
    ...(password !== undefined ? [str(password)] : []),
  ]);
  return Buffer.concat([Buffer.from([0x10, body.length]), body]);
}

/** A QoS 0 PUBLISH whose topic is the given raw bytes (so it can be invalid UTF-8). */
function rawPublish(topic: Buffer | string, payload = '{"ts":1}'): Buffer {
  const body = Buffer.concat([str(topic), Buffer.from(payload)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

/** seeded, so a failing case can be replayed */
const prng = seededRandom;

type Outcome = { closedAfterMs: number; packets: mqttPacket.Packet[]; counted: Record<string, number> };

describe('garbage, broken and contract-breaking MQTT', () => {
  let gw: TestGateway;
  let bystander: MqttClient;
  let secret: string;
  const sockets = new Set<Socket>();
  const bystanderDrops: string[] = [];

  beforeAll(async () => {
    gw = await startTestGateway({ overrides: { mqtt: { connectTimeoutMs: CONNECT_TIMEOUT_MS } } });
    bystander = await gw.connectDevice('shelf-a', 'shelf');
    gw.built.bus.on('device.connection', 'test', (event) => {
      if (event.deviceId === 'shelf-a' && !event.connected) bystanderDrops.push(event.deviceId);
    });
    secret = await gw.built.devices.registry.provision(DEVICE, 'shelf');
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await gw?.dispose();
  });

  const validConnect = (keepalive = 30) => rawConnect({ clientId: DEVICE, username: DEVICE, password: secret, keepalive });

  /**
   * Sends `chunks` on a fresh socket (30 ms apart), then waits up to `waitMs` for the broker to close it. Returns what
   * came back and which watched counters moved. A socket still open after `waitMs` is closed by the test.
   */
  async function exercise(chunks: Buffer[], waitMs = 1_000): Promise<Outcome> {
    const before = await counters(gw);
    const socket = connect({ host: '127.0.0.1', port: gw.built.broker.port });
    sockets.add(socket);
    const parser = mqttPacket.parser();
    const packets: mqttPacket.Packet[] = [];
    parser.on('packet', (packet) => packets.push(packet));
    parser.on('error', () => undefined);
    socket.on('data', (chunk) => parser.parse(chunk));
    socket.on('error', () => undefined);
    const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const sentAt = Date.now();
    for (const [i, chunk] of chunks.entries()) {
      if (i > 0) await new Promise((r) => setTimeout(r, 30));
      if (!socket.destroyed) socket.write(chunk);
    }
    let timer: NodeJS.Timeout | undefined;
    const closedAt = await Promise.race([closed, new Promise<number>((resolve) => (timer = setTimeout(() => resolve(Infinity), waitMs)))]);
    clearTimeout(timer);
    socket.destroy();
    sockets.delete(socket);
    await new Promise((r) => setTimeout(r, 20)); // counters are updated in the broker's close path
    return { closedAfterMs: closedAt - sentAt, packets, counted: diff(before, await counters(gw)) };
  }

  const connack = (o: Outcome) => o.packets.find((p): p is mqttPacket.IConnackPacket => p.cmd === 'connack')?.returnCode;

  describe('bytes that are not MQTT, before CONNECT: closed at once, counted as protocol errors', () => {
    it.each([
      ['a reserved packet type (0)', Buffer.from([0x00, 0x01, 0x02, 0x03])],
      ['an HTTP request', Buffer.from('GET /metrics HTTP/1.1\r\nHost: gateway\r\n\r\n')],
      ['a TLS ClientHello', Buffer.from('16030100a5010000a10303' + '00'.repeat(32), 'hex')],
      ['a remaining length of five bytes', Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x01])],
      ['a CONNECT for protocol "MQTX"', rawConnect({ clientId: 'x', protocol: 'MQTX' })],
      ['a PUBLISH before CONNECT', rawPublish(OWN_STATUS)],
      ['a SUBSCRIBE before CONNECT', mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '#', qos: 0 }] })],
    ])('%s', async (_name, bytes) => {
      const outcome = await exercise([bytes]);
      expect(outcome.closedAfterMs).toBeLessThan(500);
      expect(outcome.packets).toEqual([]);
      expect(outcome.counted).toEqual({ [rejected('protocol-error')]: 1 });
    });

    it('an MQTT 5 CONNECT is answered "unacceptable protocol version" (1) and counted', async () => {
      const v5 = mqttPacket.generate({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 5,
        clean: true,
        keepalive: 30,
        clientId: DEVICE,
        username: DEVICE,
        password: Buffer.from(secret),
      });
      const outcome = await exercise([v5]);
      expect(connack(outcome)).toBe(1);
      expect(outcome.closedAfterMs).toBeLessThan(500);
      expect(outcome.counted).toEqual({ [rejected('protocol-error')]: 1 });
    });

    it('40 seeded random garbage streams: every one closed within the connect timeout, never accepted', async () => {
      const random = prng(0x5eed);
      const before = await counters(gw);
      const results = await Promise.all(
        Array.from({ length: 40 }, () => {
          const bytes = Buffer.from(Array.from({ length: 1 + Math.floor(random() * 200) }, () => Math.floor(random() * 256)));
          return exercise([bytes], CONNECT_TIMEOUT_MS + 1_500);
        }),
      );
      for (const outcome of results) {
        expect(outcome.closedAfterMs).toBeLessThan(CONNECT_TIMEOUT_MS + 1_000);
        expect(connack(outcome) ?? 'none').not.toBe(0);
      }
      // only refusals moved, at most one per stream (the rest ran into the connect timeout)
      const counted = diff(before, await counters(gw));
      expect(Object.keys(counted).every((key) => key === rejected('protocol-error') || key === rejected('packet-too-large'))).toBe(true);
      expect(Object.values(counted).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(40);
      expect(counted[rejected('protocol-error')]).toBeGreaterThan(0);
    });
  });

  describe('truncated packets', () => {
    it('a CONNECT cut short is closed by the connect timeout, not earlier, and counted as connect-timeout', async () => {
      const outcome = await exercise([validConnect().subarray(0, 12)]);
      expect(outcome.closedAfterMs).toBeGreaterThanOrEqual(CONNECT_TIMEOUT_MS - 20);
      expect(outcome.closedAfterMs).toBeLessThan(CONNECT_TIMEOUT_MS + 700);
      expect(outcome.counted).toEqual({ [rejected('connect-timeout')]: 1 });
    });

    it('a PUBLISH cut short after CONNECT is closed by the keepalive (1 s × 1.5), and nothing is ingested', async () => {
      const outcome = await exercise([validConnect(1), rawPublish(OWN_STATUS).subarray(0, 9)], 3_000);
      expect(connack(outcome)).toBe(0);
      expect(outcome.closedAfterMs).toBeGreaterThanOrEqual(1_400);
      expect(outcome.closedAfterMs).toBeLessThan(2_500);
      expect(outcome.counted).toEqual({});
    });
  });

  describe('CONNECTs that break the contract: refused in CONNACK and counted', () => {
    it.each([
      ['an empty client id with clean=0', { clientId: '', clean: false, username: DEVICE, password: 'secret' }, 2, 'client-id-mismatch'],
      ['an empty client id with clean=0, anonymous', { clientId: '', clean: false }, 4, 'no-credentials'],
      ['an empty client id with clean=1', { clientId: '', username: DEVICE, password: 'secret' }, 2, 'client-id-mismatch'],
      ['a client id that is not the username', { clientId: 'shelf-a', username: DEVICE, password: 'secret' }, 2, 'client-id-mismatch'],
      ['an anonymous client', { clientId: DEVICE }, 4, 'no-credentials'],
      ['a username without a password', { clientId: DEVICE, username: DEVICE }, 4, 'no-credentials'],
      ['an empty password', { clientId: DEVICE, username: DEVICE, password: '' }, 4, 'no-credentials'],
      // 5 "not authorized", a code MQTT 3.1.1 defines (aedes' own check answered 6, a reserved one); keepalive 0 is
      // accepted: tests/integration/mqtt-keepalive.test.ts
      ['keepalive above maxKeepaliveSec', { clientId: DEVICE, username: DEVICE, password: 'secret', keepalive: 301 }, 5, 'keepalive'],
      // checked against the id pattern before the id becomes a key of any map: "identifier rejected"
      [
        'a client id and username outside the device id pattern',
        { clientId: 'ünïcode/+#', username: 'ünïcode/+#', password: 'x' },
        2,
        'bad-client-id',
      ],
    ] as const)('%s', async (_name, options, returnCode, reason) => {
      const password =
        'password' in options && options.password === 'secret' ? secret : 'password' in options ? options.password : undefined;
      const outcome = await exercise([rawConnect({ ...options, password })]);
      expect(connack(outcome)).toBe(returnCode);
      expect(outcome.closedAfterMs).toBeLessThan(500);
      expect(outcome.counted).toEqual({ [rejected(reason)]: 1 });
    });

    it('a username and password of invalid UTF-8 bytes are refused as an id outside the pattern', async () => {
      const flags = 0x80 | 0x40 | 0x02;
      const body = Buffer.concat([
        str('MQTT'),
        Buffer.from([4, flags, 0, 30]),
        str(Buffer.from([0xc3, 0x28])),
        str(Buffer.from([0xc3, 0x28])),
        str(Buffer.from([0xff, 0xfe])),
      ]);
      const outcome = await exercise([Buffer.concat([Buffer.from([0x10, body.length]), body])]);
      expect(connack(outcome)).toBe(2);
      expect(outcome.counted).toEqual({ [rejected('bad-client-id')]: 1 });
    });
  });

  describe('an authenticated device breaking the rules: closed, never ingested', () => {
    it.each([
      ['an invalid UTF-8 topic', rawPublish(Buffer.from([...Buffer.from(`store/test-store/shelf/${DEVICE}/`), 0xc3, 0x28])), { [ACL]: 1 }],
      ['a NUL in its own topic', rawPublish(`${OWN_STATUS}\u0000`), { [ACL]: 1 }],
      ['a publish on $SYS', rawPublish('$SYS/broker/uptime'), { [ACL]: 1 }],
      ['a publish on its own command topic', rawPublish(OWN_CMD), { [ACL]: 1 }],
      // refused by aedes itself, before the gateway's ACL sees them: closed, not counted
      ['a "+" wildcard in a PUBLISH topic', rawPublish(`store/test-store/shelf/+/status`), {}],
      ['a "#" wildcard in a PUBLISH topic', rawPublish(`store/test-store/shelf/${DEVICE}/#`), {}],
      ['an empty PUBLISH topic', rawPublish(''), {}],
      ['a topic deeper than maxTopicLevels', rawPublish('store/test-store/shelf/x/a/b/c/d/e/f'), {}],
      ['a PUBLISH with QoS 3', Buffer.from([0x36, ...rawPublish(OWN_STATUS).subarray(1)]), {}],
      [
        'a SUBSCRIBE with reserved flags',
        Buffer.from([
          0x80,
          ...mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: OWN_CMD, qos: 0 }] }).subarray(1),
        ]),
        {},
      ],
      ['a second CONNECT', rawConnect({ clientId: DEVICE, username: DEVICE, password: 'whatever' }), {}],
    ] as const)('%s', async (_name, bytes, counted) => {
      const outcome = await exercise([validConnect(), bytes]);
      expect(connack(outcome)).toBe(0);
      expect(outcome.closedAfterMs).toBeLessThan(500);
      expect(outcome.counted).toEqual(counted);
    });

    it('subscriptions to $SYS, wildcards and another device are refused in SUBACK (0x80); the connection stays', async () => {
      const subscribe = mqttPacket.generate({
        cmd: 'subscribe',
        messageId: 7,
        subscriptions: [
          { topic: '$SYS/#', qos: 0 },
          { topic: '$SYS/broker/clients/connected', qos: 0 },
          { topic: '#', qos: 0 },
          { topic: 'store/test-store/shelf/shelf-a/cmd', qos: 1 },
          { topic: OWN_CMD, qos: 1 },
        ],
      });
      const outcome = await exercise([validConnect(), subscribe, mqttPacket.generate({ cmd: 'pingreq' })], 300);
      expect(outcome.closedAfterMs).toBe(Infinity); // still open when the test let go of it
      const suback = outcome.packets.find((p): p is mqttPacket.ISubackPacket => p.cmd === 'suback');
      expect(suback?.granted).toEqual([128, 128, 128, 128, 1]);
      expect(outcome.packets.some((p) => p.cmd === 'pingresp')).toBe(true);
      expect(outcome.counted).toEqual({ [SUB_REFUSED]: 4 });
    });
  });

  it('through all of it the bystander stayed connected and is still served, and new devices connect', async () => {
    expect(bystanderDrops).toEqual([]);
    const accepted = () => gw.built.metrics.value('smartstore_device_messages_total', { channel: 'shelf/status' });
    const before = await accepted();
    await bystander.publishAsync('store/test-store/shelf/shelf-a/status', JSON.stringify({ firmware: '1.0.0', ts: Date.now() }), {
      qos: 1,
    });
    const newcomer = await gw.connectDevice('shelf-new', 'shelf');
    await newcomer.publishAsync('store/test-store/shelf/shelf-new/status', JSON.stringify({ ts: Date.now() }), { qos: 1 });
    await eventually(async () => ((await accepted()) === before + 2 ? true : undefined), 2_000, 'both status messages');
    const health = await gw.api('/api/health');
    expect(health.status).toBe(200);
  });
});
