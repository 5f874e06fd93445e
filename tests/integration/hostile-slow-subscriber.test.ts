/**
 * Hostile input, issue 8: a label subscribes to its command topic and then stops reading, while the gateway keeps
 * sending it commands. The broker must stay up, keep memory bounded, keep serving everyone else, and drop the frozen
 * client after `mqtt.drainTimeoutMs`. Issue 21: browsers that open the live stream and stop reading are dropped once
 * each, and what they held is released.
 */
import { connect, type Socket } from 'node:net';
import type { MqttClient } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryInUseMb } from '../helpers/memory-in-use.js';
import { TEST_TOKEN, eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import type { CommandResult } from '../../edge/device-registry/command-channel.js';
import type { RelayStatus } from '../../edge/relay/relay-status.js';

const DRAIN_TIMEOUT_MS = 500;
const MB = 1024 * 1024;
const CMD_TOPIC = (id: string) => `store/test-store/esl/${id}/cmd`;
const WEIGHT_TOPIC = (id: string) => `store/test-store/shelf/${id}/weight`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The promise's value, or `fallback` after `ms` (the timer is cleared either way). */
async function within<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

type RawClient = { socket: Socket; packets: mqttPacket.Packet[] };

/** Connects a device over a raw socket (so it can stop reading), subscribes it to its command topic. */
async function frozenLabel(port: number, id: string, secret: string): Promise<RawClient> {
  const socket = connect({ host: '127.0.0.1', port });
  const parser = mqttPacket.parser();
  const packets: mqttPacket.Packet[] = [];
  parser.on('packet', (packet) => packets.push(packet));
  socket.on('data', (chunk) => parser.parse(chunk));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(
    mqttPacket.generate({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: true,
      keepalive: 60,
      clientId: id,
      username: id,
      password: Buffer.from(secret),
    }),
  );
  await eventually(() => (packets.some((p) => p.cmd === 'connack' && p.returnCode === 0) ? true : undefined), 2_000, 'CONNACK');
  socket.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: CMD_TOPIC(id), qos: 1 }] }));
  await eventually(() => packets.find((p) => p.cmd === 'suback'), 2_000, 'SUBACK');
  return { socket, packets };
}

/** A set-price command padded to about `bytes` (the gateway's own messages have no size limit). */
function bigCommand(n: number, bytes: number) {
  return {
    deviceId: 'esl-frozen',
    kind: 'esl' as const,
    type: 'set-price',
    params: { sku: '4000000000017', priceCents: 199 + n, note: 'x'.repeat(bytes) },
  };
}

describe('a subscriber that stops reading while commands pile up', () => {
  let gw: TestGateway;
  let healthyLabel: MqttClient;
  let shelf: MqttClient;
  const raws: Socket[] = [];
  const accepted = () => gw.built.metrics.value('smartstore_device_messages_total', { channel: 'shelf/weight' });

  /** Publishes one shelf reading (QoS 1) and returns the ms until the gateway has ingested it. */
  async function ingestLatency(): Promise<number> {
    const before = await accepted();
    const at = Date.now();
    await shelf.publishAsync(WEIGHT_TOPIC('shelf-a'), JSON.stringify({ facing: 1, weightG: 5200, ts: Date.now() }), { qos: 1 });
    while ((await accepted()) === before && Date.now() - at < 5_000) await sleep(2);
    return Date.now() - at;
  }

  beforeAll(async () => {
    gw = await startTestGateway({ overrides: { mqtt: { drainTimeoutMs: DRAIN_TIMEOUT_MS } } });
    healthyLabel = await gw.connectDevice('esl-ok', 'esl');
    await healthyLabel.subscribeAsync(CMD_TOPIC('esl-ok'), { qos: 1 });
    shelf = await gw.connectDevice('shelf-a', 'shelf');
  });
  afterAll(async () => {
    for (const socket of raws) socket.destroy();
    await gw?.dispose();
  });

  it('drops the frozen label after the drain timeout, with bounded memory, while others are served without delay', async () => {
    const secret = await gw.built.devices.registry.provision('esl-frozen', 'esl');
    const frozen = await frozenLabel(gw.built.broker.port, 'esl-frozen', secret);
    raws.push(frozen.socket);
    expect(gw.built.broker.connectedDevices).toBe(3);
    // the frozen socket will not see its own close (it does not read): watch the gateway's side of it
    const droppedAt = new Promise<number>((resolve) => {
      const unsubscribe = gw.built.bus.on('device.connection', 'test', (event) => {
        if (event.deviceId === 'esl-frozen' && !event.connected) {
          unsubscribe();
          resolve(Date.now());
        }
      });
    });
    frozen.socket.pause(); // stops reading: the kernel buffers fill, then the broker's writes back up

    const rssBefore = process.memoryUsage().rss;
    const frozeAt = Date.now();
    // 2,000 commands of 32 KB, one per event-loop turn as a busy gateway would send them: 64 MB for a label that
    // reads nothing. Every 250 commands a shelf reading probes how long ingestion takes meanwhile.
    const COMMANDS = 2_000;
    const COMMAND_BYTES = 32 * 1024;
    const sends: Promise<CommandResult>[] = [];
    const ingestMs: number[] = [];
    for (let n = 0; n < COMMANDS; n++) {
      sends.push(gw.built.devices.commands.send(bigCommand(n, COMMAND_BYTES)));
      if (n % 250 === 249) ingestMs.push(await ingestLatency());
      await new Promise((r) => setImmediate(r));
    }

    // while the frozen label is backed up, a command to a healthy label arrives at once
    const commandAt = Date.now();
    const received = new Promise<string>((resolve) => healthyLabel.once('message', (_t, payload) => resolve(payload.toString())));
    const okCommand = gw.built.devices.commands.send({
      deviceId: 'esl-ok',
      kind: 'esl',
      type: 'set-price',
      params: { sku: '4000000000017', priceCents: 219 },
      timeoutMs: 1_000,
    });
    expect(JSON.parse(await received)).toMatchObject({ type: 'set-price', priceCents: 219 });
    const commandMs = Date.now() - commandAt;

    const droppedAfterMs = (await within(droppedAt, DRAIN_TIMEOUT_MS + 3_000, Infinity)) - frozeAt;
    const rssGrowthMb = (process.memoryUsage().rss - rssBefore) / MB;
    // every command to the frozen label ends dropped — refused while it is backed up, or lost with its connection —
    // and each is counted: none resolves as if it had been delivered
    const outcomes = (await Promise.all(sends)).map((result) => result.outcome);
    expect(outcomes.filter((outcome) => outcome !== 'dropped')).toEqual([]);
    expect(await gw.built.metrics.value('smartstore_device_commands_total', { outcome: 'dropped' })).toBeGreaterThanOrEqual(COMMANDS);

    // without a bound, ingestion waited for the drain timeout (~500 ms) and RSS grew by ~75 MB here
    expect(Math.max(...ingestMs)).toBeLessThan(100);
    expect(commandMs).toBeLessThan(100);
    expect(rssGrowthMb).toBeLessThan(32);
    // dropped by the drain timeout: not before it, and not long after
    expect(droppedAfterMs).toBeGreaterThanOrEqual(DRAIN_TIMEOUT_MS);
    expect(droppedAfterMs).toBeLessThan(DRAIN_TIMEOUT_MS + 2_000);
    await eventually(() => (gw.built.broker.connectedDevices === 2 ? true : undefined), 2_000, 'the frozen label to be gone');

    // the broker stayed up: healthy, and the others still talk to it
    const health = await gw.api('/api/health');
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', checks: { broker: { ok: true, connectedDevices: 2 } } });
    expect(await ingestLatency()).toBeLessThan(100);
    // the healthy label received its command but never acks: it ends timed out, not dropped
    expect(await okCommand).toMatchObject({ outcome: 'timed-out', deviceId: 'esl-ok' });
  });
});

/** Opens the live stream over a raw socket and stops reading once the gateway's `hello` arrived. */
async function frozenStream(port: number): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  let head = '';
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () =>
      socket.write(`GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${TEST_TOKEN}\r\n\r\n`),
    );
    socket.on('data', function onData(chunk: Buffer) {
      head += chunk.toString('latin1');
      if (!head.includes('event: hello')) return;
      socket.off('data', onData);
      socket.pause();
      resolve();
    });
    socket.once('close', () => reject(new Error(`stream closed before hello: ${head.slice(0, 200)}`)));
  });
  expect(head.startsWith('HTTP/1.1 200')).toBe(true);
  return socket;
}

describe('live-stream clients that stop reading', () => {
  const CLIENTS = 50;
  const DROPPED = 'live stream closed: client is not reading';
  let gw: TestGateway | undefined;
  const sockets: Socket[] = [];
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await gw?.dispose();
  });

  it('each is removed at the bound, before its socket is destroyed: one log line each, health fast, memory back to baseline', async () => {
    const lines: string[] = [];
    gw = await startTestGateway({ logLines: lines, overrides: { http: { maxSseClients: CLIENTS * 2 } } });
    const port = new URL(gw.httpUrl).port;
    const sseClients = () => gw!.built.metrics.value('smartstore_sse_clients');
    // a relay status as the relay publishes it, its last error padded so the burst passes the bound in few events
    const status = (await (await gw.api('/api/relay')).json()) as RelayStatus;
    const event = (n: number): RelayStatus => ({ ...status, link: { ...status.link, lastError: `${n} ${'e'.repeat(64 * 1024)}` } });
    const baselineMb = memoryInUseMb();

    for (let i = 0; i < CLIENTS; i++) sockets.push(await frozenStream(Number(port)));
    expect(await sseClients()).toBe(CLIENTS);

    // a burst of 64 KB events, several per event-loop turn as a busy store publishes them, until every stream is
    // dropped (each holds the kernel's socket buffers, then the 1 MB bound); a health check is asked in the middle
    let sent = 0;
    let healthMs: Promise<number> | undefined;
    while ((await sseClients()) > 0 && sent < 4_000) {
      for (let i = 0; i < 4; i++) gw.built.bus.emit('relay.status', event(sent++));
      if (sent === 40) {
        const at = Date.now();
        healthMs = gw.api('/api/health').then((response) => (expect(response.status).toBe(200), Date.now() - at));
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await sseClients()).toBe(0);
    expect(await healthMs).toBeLessThan(1_000);
    // more events with nobody listening: nothing is written or logged for the dropped clients
    for (let i = 0; i < 100; i++) gw.built.bus.emit('relay.status', event(sent++));
    const afterAt = Date.now();
    expect((await gw.api('/api/health')).status).toBe(200);
    expect(Date.now() - afterAt).toBeLessThan(1_000);

    // one line per dropped client, each naming a different client
    const dropped = lines.map((line) => JSON.parse(line) as { msg: string; remotePort?: number }).filter((line) => line.msg === DROPPED);
    expect(dropped).toHaveLength(CLIENTS);
    expect(new Set(dropped.map((line) => line.remotePort)).size).toBe(CLIENTS);
    // what they held (up to 1 MB each in the gateway) is released with them
    let growthMb = Infinity;
    await eventually(() => ((growthMb = memoryInUseMb() - baselineMb) < 10 ? true : undefined), 5_000, 'memory back to baseline').catch(
      () => undefined,
    );
    expect(growthMb).toBeLessThan(10);
  });
});
