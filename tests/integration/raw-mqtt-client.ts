/**
 * A bare MQTT 3.1.1 client on a raw socket, for tests that need what mqtt.js will not do: pick the local (source)
 * address, read the CONNACK return code byte itself, send CONNECT and PUBLISH in one write, keepalive 0 or above the
 * gateway's range, never answer a PINGREQ. Packets are generated and parsed with mqtt-packet (aedes' own codec).
 */
import { connect, type Socket } from 'node:net';
import mqttPacket from 'mqtt-packet';

export type RawConnect = { clientId: string; username?: string; password?: string; keepalive?: number; clean?: boolean };

export function connectBytes(options: RawConnect): Buffer {
  const { clientId, username, password, keepalive = 30, clean = true } = options;
  return mqttPacket.generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clientId,
    clean,
    keepalive,
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password: Buffer.from(password) } : {}),
  });
}

export function publishBytes(topic: string, payload: string, qos: 0 | 1 = 0, messageId = 1): Buffer {
  return mqttPacket.generate({
    cmd: 'publish',
    topic,
    payload: Buffer.from(payload),
    qos,
    retain: false,
    dup: false,
    ...(qos > 0 ? { messageId } : {}),
  });
}

/** A raw connection: the packets the gateway sent so far, and when (if) the socket closed. */
export class RawMqttConnection {
  readonly packets: mqttPacket.Packet[] = [];
  readonly openedAt = Date.now();
  closedAt: number | undefined;
  private readonly parser = mqttPacket.parser({ protocolVersion: 4 });
  private readonly waiters: (() => void)[] = [];

  private constructor(readonly socket: Socket) {
    this.parser.on('packet', (packet) => {
      this.packets.push(packet);
      this.wake();
    });
    socket.on('data', (chunk) => this.parser.parse(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closedAt = Date.now();
      this.wake();
    });
  }

  /** Opens a TCP connection to 127.0.0.1:`port` from `localAddress` (any 127.x.y.z works on Linux loopback). */
  static open(port: number, localAddress = '127.0.0.1'): Promise<RawMqttConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1', localAddress });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawMqttConnection(socket));
      });
    });
  }

  write(...chunks: Buffer[]): void {
    this.socket.write(Buffer.concat(chunks));
  }

  /** The CONNACK return code, or undefined when the socket closed without one. */
  async connack(timeoutMs = 5_000): Promise<number | undefined> {
    const packet = await this.until(
      () => this.packets.find((p) => p.cmd === 'connack') ?? (this.closedAt !== undefined ? null : undefined),
      timeoutMs,
    );
    return packet ? packet.returnCode : undefined;
  }

  /** Resolves with the time the socket closed, or fails after `timeoutMs`. */
  closed(timeoutMs = 5_000): Promise<number> {
    return this.until(() => this.closedAt, timeoutMs);
  }

  destroy(): void {
    this.socket.destroy();
  }

  private until<T>(check: () => T | undefined, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      const test = () => {
        const value = check();
        if (value === undefined) return void this.waiters.push(test);
        clearTimeout(timer);
        resolve(value);
      };
      test();
    });
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}

/** Connects from `localAddress` and returns the CONNACK return code; the socket is closed afterwards. */
export async function connackCode(port: number, localAddress: string, options: RawConnect): Promise<number | undefined> {
  const connection = await RawMqttConnection.open(port, localAddress);
  try {
    connection.write(connectBytes(options));
    return await connection.connack();
  } finally {
    connection.destroy();
  }
}
