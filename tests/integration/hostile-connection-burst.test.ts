/**
 * Hostile input, issue 8: floods of TCP connections — sockets that never send CONNECT (slowloris), CONNECTs with
 * wrong secrets and with unknown device ids — against `mqtt.maxConnections` and `mqtt.connectTimeoutMs`.
 */
import { connect, type Socket } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const MAX_CONNECTIONS = 300;
const CONNECT_TIMEOUT_MS = 500;
const MAX_AUTH_FAILURES = 10;
const MB = 1024 * 1024;
const WEIGHT_TOPIC = (id: string) => `store/test-store/shelf/${id}/weight`;

type Kind = 'silent' | 'wrong-secret' | 'unknown-id';
type Outcome = { kind: Kind; connectedAt: number; closedAt: number; connack?: number; gotBytes: boolean };
type Attacker = { connected: Promise<void>; done: Promise<Outcome> };

function connectPacket(id: string, password: string): Buffer {
  return mqttPacket.generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: true,
    keepalive: 30,
    clientId: id,
    username: id,
    password: Buffer.from(password),
  });
}

/** Opens one attacking socket; `done` resolves when the broker has closed it. */
function attacker(port: number, kind: Kind, index: number, sockets: Set<Socket>): Attacker {
  const outcome: Outcome = { kind, connectedAt: 0, closedAt: 0, gotBytes: false };
  const socket = connect({ host: '127.0.0.1', port });
  sockets.add(socket);
  const parser = mqttPacket.parser();
  parser.on('packet', (packet) => {
    if (packet.cmd === 'connack') outcome.connack = packet.returnCode;
  });
  socket.on('data', (chunk) => {
    outcome.gotBytes = true;
    parser.parse(chunk);
  });
  socket.on('error', () => undefined);
  const connected = new Promise<void>((resolve) =>
    socket.once('connect', () => {
      outcome.connectedAt = Date.now();
      if (kind === 'wrong-secret') socket.write(connectPacket('shelf-b', `guess-${index}`));
      if (kind === 'unknown-id') socket.write(connectPacket(`ghost-${index}`, 'whatever'));
      // 'silent' sends nothing and never closes by itself
      resolve();
    }),
  );
  const done = new Promise<Outcome>((resolve) =>
    socket.once('close', () => {
      sockets.delete(socket);
      outcome.closedAt = Date.now();
      resolve(outcome);
    }),
  );
  return { connected, done };
}

function tryConnect(url: string, id: string, password: string): Promise<{ ok: boolean; code?: number; client: MqttClient }> {
  return new Promise((resolve) => {
    const client = mqtt.connect(url, { clientId: id, username: id, password, reconnectPeriod: 0, connectTimeout: 2_000, keepalive: 30 });
    client.once('connect', () => resolve({ ok: true, client }));
    client.once('error', (error) => resolve({ ok: false, code: (error as { code?: number }).code, client }));
    client.once('close', () => resolve({ ok: false, client }));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('floods of hostile TCP connections', () => {
  let gw: TestGateway;
  let bystander: MqttClient;
  let shelfBSecret: string;
  let shelfCSecret: string;
  const sockets = new Set<Socket>();
  const clients: MqttClient[] = [];
  const rejected = (reason: string) => gw.built.metrics.value('smartstore_mqtt_connections_rejected_total', { reason });
  const accepted = () => gw.built.metrics.value('smartstore_device_messages_total', { channel: 'shelf/weight' });

  /** The bystander publishes readings (QoS 1) every 20 ms until stopped; returns how many it published. */
  function keepPublishing(): { stop: () => Promise<number> } {
    let running = true;
    let published = 0;
    const loop = (async () => {
      while (running) {
        await bystander.publishAsync(WEIGHT_TOPIC('shelf-a'), JSON.stringify({ facing: 1, weightG: 5200, ts: Date.now() }), { qos: 1 });
        published++;
        await sleep(20);
      }
    })();
    return {
      stop: async () => {
        running = false;
        await loop;
        return published;
      },
    };
  }

  beforeAll(async () => {
    gw = await startTestGateway({
      overrides: {
        mqtt: { maxConnections: MAX_CONNECTIONS, connectTimeoutMs: CONNECT_TIMEOUT_MS, maxAuthFailuresPerMinute: MAX_AUTH_FAILURES },
      },
    });
    bystander = await gw.connectDevice('shelf-a', 'shelf');
    shelfBSecret = await gw.built.devices.registry.provision('shelf-b', 'shelf');
    shelfCSecret = await gw.built.devices.registry.provision('shelf-c', 'shelf');
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await gw?.dispose();
  });

  it('slowloris fills every slot: the excess is dropped and counted, the silent ones are closed after the connect timeout', async () => {
    const port = gw.built.broker.port;
    const droppedBefore = await rejected('too-many-connections');
    const acceptedBefore = await accepted();
    const publisher = keepPublishing();

    // the bystander holds one slot; these take every other one and never say a word
    const holders = Array.from({ length: MAX_CONNECTIONS - 1 }, (_, i) => attacker(port, 'silent', i, sockets));
    await Promise.all(holders.map((h) => h.connected));
    await sleep(30); // let the broker accept the last of them

    // the server is full: 50 more are closed at once, long before the connect timeout could have done it
    const excess = Array.from({ length: 50 }, (_, i) => attacker(port, 'silent', i, sockets));
    const excessOutcomes = await Promise.all(excess.map((h) => h.done));
    for (const o of excessOutcomes) {
      expect(o.gotBytes).toBe(false);
      expect(o.closedAt - o.connectedAt).toBeLessThan(CONNECT_TIMEOUT_MS / 2);
    }
    expect((await rejected('too-many-connections')) - droppedBefore).toBe(50);

    // a legitimate new device is turned away too while the attacker holds every slot: the limit is global
    const during = await tryConnect(gw.mqttUrl, 'shelf-c', shelfCSecret);
    clients.push(during.client);
    expect(during.ok).toBe(false);
    expect((await rejected('too-many-connections')) - droppedBefore).toBe(51);

    // the silent holders are closed by the connect timeout, not earlier and not much later
    const holderOutcomes = await Promise.all(holders.map((h) => h.done));
    for (const o of holderOutcomes) {
      expect(o.gotBytes).toBe(false);
      expect(o.closedAt - o.connectedAt).toBeGreaterThanOrEqual(CONNECT_TIMEOUT_MS - 20);
      expect(o.closedAt - o.connectedAt).toBeLessThan(CONNECT_TIMEOUT_MS + 1_500);
    }

    // the connected bystander was never affected, and the slots are free again
    const published = await publisher.stop();
    expect(published).toBeGreaterThan(5);
    await eventually(async () => ((await accepted()) === acceptedBefore + published ? true : undefined), 2_000, 'every bystander reading');
    const after = await tryConnect(gw.mqttUrl, 'shelf-c', shelfCSecret);
    clients.push(after.client);
    expect(after.ok).toBe(true);
    await after.client.endAsync();
  });

  it('1,000 mixed hostile connects at once: all reaped, every refusal answered or dropped and counted, devices keep working', async () => {
    const SILENT = 600;
    const WRONG_SECRET = 200; // all for one provisioned id: the auth-failure throttle is per device id
    const UNKNOWN_ID = 200;
    const port = gw.built.broker.port;
    const before = {
      dropped: await rejected('too-many-connections'),
      badSecret: await rejected('bad-secret'),
      throttled: await rejected('too-many-failures'),
      unknown: await rejected('unknown-device'),
    };
    const acceptedBefore = await accepted();
    const rssBefore = process.memoryUsage().rss;
    const publisher = keepPublishing();

    // the three kinds interleaved, deterministically, so every phase of the burst has all of them
    const kinds: Kind[] = [];
    for (let i = 0; i < SILENT + WRONG_SECRET + UNKNOWN_ID; i++)
      kinds.push(i % 5 === 1 ? 'wrong-secret' : i % 5 === 3 ? 'unknown-id' : 'silent');
    const burstStart = Date.now();
    const pending: Promise<Outcome>[] = [];
    for (let i = 0; i < kinds.length; i++) {
      pending.push(attacker(port, kinds[i] as Kind, i, sockets).done);
      // 100 per tick: a burst far faster than the connect timeout, but within the kernel's accept backlog
      if (i % 100 === 99) await new Promise((r) => setImmediate(r));
    }
    const outcomes = await Promise.all(pending);
    const allClosedMs = Date.now() - burstStart;
    const rssGrowthMb = (process.memoryUsage().rss - rssBefore) / MB;
    const published = await publisher.stop();

    const delta = {
      dropped: (await rejected('too-many-connections')) - before.dropped,
      badSecret: (await rejected('bad-secret')) - before.badSecret,
      throttled: (await rejected('too-many-failures')) - before.throttled,
      unknown: (await rejected('unknown-device')) - before.unknown,
    };
    const of = (kind: Kind) => outcomes.filter((o) => o.kind === kind);

    // no hostile socket survives: the slowest are the ones the kernel made retry their SYN (1 s) under the burst
    expect(allClosedMs).toBeLessThan(CONNECT_TIMEOUT_MS + 4_000);
    // silent sockets never get a byte; auth attempts that got in are answered with a refusal, never accepted
    expect(of('silent').every((o) => !o.gotBytes)).toBe(true);
    const wrong = of('wrong-secret').filter((o) => o.connack !== undefined);
    const ghosts = of('unknown-id').filter((o) => o.connack !== undefined);
    expect(wrong.every((o) => o.connack === 4 || o.connack === 5)).toBe(true);
    expect(ghosts.every((o) => o.connack === 4)).toBe(true);
    // every answered refusal is counted under its reason; the rest of the attempts were dropped at the limit
    expect(delta.badSecret + delta.throttled).toBe(wrong.length);
    expect(delta.unknown).toBe(ghosts.length);
    const unanswered = of('wrong-secret').length - wrong.length + of('unknown-id').length - ghosts.length;
    expect(delta.dropped).toBeGreaterThanOrEqual(unanswered);
    expect(delta.dropped).toBeLessThanOrEqual(outcomes.length - wrong.length - ghosts.length);
    // the throttle: exactly maxAuthFailuresPerMinute guesses got their secret checked (a scrypt each), even though
    // they arrived concurrently; every other guess was refused without one
    expect(delta.badSecret).toBe(MAX_AUTH_FAILURES);
    expect(delta.throttled).toBe(wrong.length - delta.badSecret);
    expect(delta.throttled).toBeGreaterThan(0);
    // 1,000 sockets on both ends of the connection live in this process; far less than a buffer per socket
    expect(rssGrowthMb).toBeLessThan(60);

    // the bystander published all through the storm, and every reading got in
    expect(published).toBeGreaterThan(5);
    await eventually(async () => ((await accepted()) === acceptedBefore + published ? true : undefined), 2_000, 'every bystander reading');

    // after the storm: a legitimate device connects and publishes
    const late = await gw.connectDevice('shelf-late', 'shelf');
    const lateBefore = await accepted();
    await late.publishAsync(WEIGHT_TOPIC('shelf-late'), JSON.stringify({ facing: 1, weightG: 10, ts: Date.now() }), { qos: 1 });
    await eventually(async () => ((await accepted()) === lateBefore + 1 ? true : undefined), 2_000, 'the late reading');

    // by design (config/schema.json: maxAuthFailuresPerMinute), the id under attack is locked for a minute from the
    // attacker's address (here the test's own 127.0.0.1), even with its right secret: the gateway does not hash for the
    // attacker, and the device on its own address is not locked out (tests/integration/mqtt-login-throttle.test.ts)
    const locked = await tryConnect(gw.mqttUrl, 'shelf-b', shelfBSecret);
    clients.push(locked.client);
    expect(locked).toMatchObject({ ok: false, code: 5 });
  });
});
