/**
 * A minimal MQTT 3.1.1 client for load generation: CONNECT, pre-encoded PUBLISH frames, PUBACK counting.
 *
 * Why not mqtt.js for the flood: one load-generator process must offer more than any broker under test can take, or
 * the benchmark measures the generator. mqtt.js encodes every packet and keeps per-message state; this writes
 * pre-built frames straight to the socket and only parses the four packet types a publisher receives.
 * Idle devices (memory benchmark) and the alert probe use mqtt.js: there the client's cost does not matter.
 */
import { connect as netConnect, type Socket } from 'node:net';

export type WireCredentials = { clientId: string; username?: string; password?: string };

function encodeLength(length: number): number[] {
  const bytes: number[] = [];
  do {
    let byte = length % 128;
    length = Math.floor(length / 128);
    if (length > 0) byte |= 0x80;
    bytes.push(byte);
  } while (length > 0);
  return bytes;
}

function utf8Field(value: string): Buffer {
  const body = Buffer.from(value, 'utf8');
  const out = Buffer.allocUnsafe(2 + body.length);
  out.writeUInt16BE(body.length, 0);
  body.copy(out, 2);
  return out;
}

export function encodeConnect(credentials: WireCredentials, keepaliveSec: number): Buffer {
  let flags = 0x02; // clean session
  const payload = [utf8Field(credentials.clientId)];
  if (credentials.username !== undefined) {
    flags |= 0x80;
    payload.push(utf8Field(credentials.username));
  }
  if (credentials.password !== undefined) {
    flags |= 0x40;
    payload.push(utf8Field(credentials.password));
  }
  const variable = Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, flags, keepaliveSec >> 8, keepaliveSec & 0xff]);
  const body = Buffer.concat([variable, ...payload]);
  return Buffer.concat([Buffer.from([0x10, ...encodeLength(body.length)]), body]);
}

/**
 * One PUBLISH frame. For QoS 1 the packet id sits at `idOffset` so a frame can be reused with a new id
 * (`frame.writeUInt16BE(id, idOffset)`).
 */
export function encodePublish(topic: string, payload: Buffer, qos: 0 | 1, packetId = 1): { frame: Buffer; idOffset: number } {
  const topicField = utf8Field(topic);
  const remaining = topicField.length + (qos > 0 ? 2 : 0) + payload.length;
  const header = Buffer.from([0x30 | (qos << 1), ...encodeLength(remaining)]);
  const frame = Buffer.allocUnsafe(header.length + remaining);
  header.copy(frame, 0);
  topicField.copy(frame, header.length);
  const idOffset = header.length + topicField.length;
  if (qos > 0) frame.writeUInt16BE(packetId, idOffset);
  payload.copy(frame, idOffset + (qos > 0 ? 2 : 0));
  return { frame, idOffset };
}

export const PINGREQ = Buffer.from([0xc0, 0x00]);
export const DISCONNECT = Buffer.from([0xe0, 0x00]);

/** Packets a publisher receives, parsed from a byte stream (fixed header + remaining length). */
export class InboundParser {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly onPacket: (type: number, body: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    let offset = 0;
    for (;;) {
      if (this.buffer.length - offset < 2) break;
      let length = 0;
      let multiplier = 1;
      let i = offset + 1;
      let complete = false;
      while (i < this.buffer.length && i < offset + 5) {
        const byte = this.buffer[i++] as number;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if ((byte & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete || this.buffer.length - i < length) break;
      this.onPacket((this.buffer[offset] as number) >> 4, this.buffer.subarray(i, i + length));
      offset = i + length;
    }
    this.buffer = offset === this.buffer.length ? Buffer.alloc(0) : this.buffer.subarray(offset);
  }
}

export const PACKET_CONNACK = 2;
export const PACKET_PUBACK = 4;
export const PACKET_PINGRESP = 13;

export class ConnectRefusedError extends Error {
  constructor(
    readonly clientId: string,
    readonly returnCode: number,
  ) {
    super(`CONNECT of ${clientId} refused with return code ${returnCode}`);
    this.name = 'ConnectRefusedError';
  }
}

/** A connected raw publisher: a socket after CONNACK; `onPacket` receives every later packet (PUBACK, PINGRESP). */
export type WireConnection = { socket: Socket; onPacket: (handler: (type: number, body: Buffer) => void) => void };

export function connectWire(
  port: number,
  credentials: WireCredentials,
  options: { host?: string; keepaliveSec?: number; timeoutMs?: number } = {},
): Promise<WireConnection> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: options.host ?? '127.0.0.1', port });
    socket.setNoDelay(true);
    let packetHandler: (type: number, body: Buffer) => void = () => undefined;
    let connected = false;
    const timer = setTimeout(() => fail(new Error(`CONNECT of ${credentials.clientId} timed out`)), options.timeoutMs ?? 15_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const parser = new InboundParser((type, body) => {
      if (connected) packetHandler(type, body);
      else if (type === PACKET_CONNACK) {
        const returnCode = body[1] ?? 255;
        if (returnCode !== 0) return fail(new ConnectRefusedError(credentials.clientId, returnCode));
        connected = true;
        clearTimeout(timer);
        resolve({ socket, onPacket: (handler) => (packetHandler = handler) });
      }
    });
    socket.on('data', (chunk: Buffer) => parser.push(chunk));
    socket.on('error', (error) => {
      if (!connected) fail(error);
    });
    socket.on('close', () => {
      if (!connected) fail(new Error(`connection of ${credentials.clientId} closed before CONNACK`));
    });
    socket.write(encodeConnect(credentials, options.keepaliveSec ?? 60));
  });
}
