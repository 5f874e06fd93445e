/**
 * Load generator, forked by the orchestrator so that the broker under test has a core of its own.
 *
 * - `connectPublishers` + `flood`: raw MQTT publishers (mqtt-wire.ts) sending valid shelf/weight readings as fast as
 *   flow control allows: a fixed window of unacknowledged messages per client (QoS 1: PUBACK; QoS 0: PINGREQ after
 *   each chunk), refilled as acknowledgements arrive.
 * - `connectPublishers` + `paced`: the same publishers at a fixed total rate (background telemetry).
 * - `connectIdle`: mqtt.js devices that connect, subscribe to their command topic and stay idle.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { weightPayload } from './fixture.js';
import { serveRequests } from './ipc.js';
import { PACKET_PINGRESP, PACKET_PUBACK, PINGREQ, connectWire, encodePublish, type WireConnection } from './mqtt-wire.js';

export type PublisherSpec = { clientId: string; username?: string; password?: string; topic: string };
export type ConnectPublishersParams = { port: number; publishers: PublisherSpec[]; facings: number; units: number; concurrency?: number };
/** `window`: QoS 1 PUBLISHes in flight per client; `qos0WindowChunks`: unanswered chunks of 64 QoS 0 publishes + PINGREQ. */
export type FloodParams = { qos: 0 | 1; window: number; qos0WindowChunks: number };
export type PacedParams = { ratePerSec: number };
/** `cpuPercent`: the generator's own CPU use while it ran (near 100 % means the generator, not the broker, was the limit). */
export type LoadStats = { sent: number; acked: number; elapsedMs: number; disconnected: number; cpuPercent: number };
export type IdleDeviceSpec = { clientId: string; username?: string; password?: string; subscribe: string };
export type ConnectIdleParams = { port: number; devices: IdleDeviceSpec[]; concurrency: number; keepaliveSec: number };
export type ConnectIdleResult = { connected: number; failed: number; firstError: string | null; elapsedMs: number };

/** Frames per pre-encoded QoS 0 chunk: distinct facings and jitter, one socket write. */
const CHUNK_FRAMES = 64;

type Publisher = { spec: PublisherSpec; connection: WireConnection; closed: boolean };

let publishers: Publisher[] = [];
let facings = 8;
let units = 15;
let running = false;
let startedAt = 0;
let startedCpu = process.cpuUsage();
let sent = 0;
let acked = 0;
let pacer: NodeJS.Timeout | undefined;
const idle: MqttClient[] = [];

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** The i-th reading of a publisher: facings in turn, ±4 g of jitter — the units stay the same. */
function payloadFor(i: number): Buffer {
  return weightPayload((i % facings) + 1, units, ((i * 7) % 9) - 4, Date.now());
}

async function connectPublishers(params: ConnectPublishersParams): Promise<{ connected: number }> {
  facings = params.facings;
  units = params.units;
  publishers = await mapLimit(params.publishers, params.concurrency ?? 50, async (spec) => {
    const connection = await connectWire(params.port, spec, { keepaliveSec: 300 });
    const publisher: Publisher = { spec, connection, closed: false };
    connection.socket.on('close', () => (publisher.closed = true));
    connection.socket.on('error', () => undefined);
    return publisher;
  });
  return { connected: publishers.length };
}

/**
 * QoS 0 has no acknowledgement, and loopback sockets buffer megabytes: a plain write-until-backpressure flood queues
 * seconds of messages in the kernel, and the broker then spends whole seconds in one event-loop turn. So each chunk
 * of CHUNK_FRAMES publishes ends with a PINGREQ, and at most `window` chunks are unanswered: a broker handles a
 * connection's packets in order, so a PINGRESP means the chunk before it was ingested. The broker never waits (there
 * is always another chunk queued) and the backlog stays bounded.
 */
function floodQos0(publisher: Publisher, windowChunks: number): void {
  const frames = Array.from({ length: CHUNK_FRAMES }, (_, i) => encodePublish(publisher.spec.topic, payloadFor(i), 0).frame);
  const chunk = Buffer.concat([...frames, PINGREQ]);
  const socket = publisher.connection.socket;
  const send = () => {
    sent += CHUNK_FRAMES;
    socket.write(chunk);
  };
  publisher.connection.onPacket((type) => {
    if (type !== PACKET_PINGRESP) return;
    acked += CHUNK_FRAMES;
    if (running && !publisher.closed) send();
  });
  for (let i = 0; i < windowChunks; i++) send();
}

/** QoS 1: `window` PUBLISHes unacknowledged per client, refilled as PUBACKs arrive. */
function floodQos1(publisher: Publisher, window: number): void {
  // One frame per window slot: a slot is rewritten only after its previous message was acknowledged.
  const slots = Array.from({ length: window }, (_, i) => encodePublish(publisher.spec.topic, payloadFor(i), 1));
  const socket = publisher.connection.socket;
  let seq = 0;
  const sendNext = () => {
    const slot = slots[seq % window] as { frame: Buffer; idOffset: number };
    slot.frame.writeUInt16BE((seq % 65_535) + 1, slot.idOffset);
    seq++;
    sent++;
    socket.write(slot.frame);
  };
  let owed = 0;
  let scheduled = false;
  const refill = () => {
    scheduled = false;
    if (!running || publisher.closed) return;
    socket.cork();
    for (; owed > 0; owed--) sendNext();
    socket.uncork();
  };
  publisher.connection.onPacket((type) => {
    if (type !== PACKET_PUBACK) return;
    acked++;
    owed++;
    // PUBACKs arrive in bursts (one 'data' chunk); answer the whole burst with one write
    if (!scheduled) {
      scheduled = true;
      queueMicrotask(refill);
    }
  });
  socket.cork();
  for (let i = 0; i < window; i++) sendNext();
  socket.uncork();
}

function flood(params: FloodParams): { started: number } {
  running = true;
  startedAt = performance.now();
  startedCpu = process.cpuUsage();
  for (const publisher of publishers) {
    if (params.qos === 0) floodQos0(publisher, params.qos0WindowChunks);
    else floodQos1(publisher, params.window);
  }
  return { started: publishers.length };
}

function paced(params: PacedParams): { started: number } {
  running = true;
  startedAt = performance.now();
  startedCpu = process.cpuUsage();
  const rings = publishers.map((publisher) =>
    Array.from({ length: CHUNK_FRAMES }, (_, i) => encodePublish(publisher.spec.topic, payloadFor(i), 0).frame),
  );
  let turn = 0;
  const tick = () => {
    if (!running) return;
    const due = Math.floor(((performance.now() - startedAt) / 1000) * params.ratePerSec) - sent;
    for (let i = 0; i < due; i++) {
      const index = turn++ % publishers.length;
      const publisher = publishers[index] as Publisher;
      if (!publisher.closed) publisher.connection.socket.write((rings[index] as Buffer[])[(sent + i) % CHUNK_FRAMES] as Buffer);
    }
    if (due > 0) sent += due;
  };
  pacer = setInterval(tick, 2);
  return { started: publishers.length };
}

function halt(): LoadStats {
  running = false;
  if (pacer) clearInterval(pacer);
  const elapsedMs = performance.now() - startedAt;
  const cpu = process.cpuUsage(startedCpu);
  const cpuPercent = ((cpu.user + cpu.system) / 1000 / elapsedMs) * 100;
  const stats = { sent, acked, elapsedMs, disconnected: publishers.filter((p) => p.closed).length, cpuPercent };
  for (const publisher of publishers) publisher.connection.socket.destroy();
  publishers = [];
  sent = 0;
  acked = 0;
  return stats;
}

async function connectIdle(params: ConnectIdleParams): Promise<ConnectIdleResult> {
  const began = performance.now();
  let failed = 0;
  let firstError: string | null = null;
  await mapLimit(params.devices, params.concurrency, async (device) => {
    try {
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${params.port}`, {
        clientId: device.clientId,
        username: device.username,
        password: device.password,
        protocolVersion: 4,
        keepalive: params.keepaliveSec,
        reconnectPeriod: 0,
        connectTimeout: 120_000,
        clean: true,
      });
      client.on('error', () => undefined);
      await client.subscribeAsync(device.subscribe, { qos: 1 });
      idle.push(client);
    } catch (error) {
      failed++;
      firstError ??= (error as Error).message;
    }
  });
  return { connected: idle.filter((c) => c.connected).length, failed, firstError, elapsedMs: performance.now() - began };
}

function idleStatus(): { connected: number; total: number } {
  return { connected: idle.filter((c) => c.connected).length, total: idle.length };
}

async function disconnectIdle(): Promise<{ closed: number }> {
  const clients = idle.splice(0);
  await mapLimit(clients, 500, (client) => client.endAsync(true).catch(() => undefined));
  return { closed: clients.length };
}

serveRequests({ connectPublishers, flood, paced, halt, connectIdle, idleStatus, disconnectIdle }, async () => {
  if (running) halt();
  await disconnectIdle();
});
