import type { Socket } from 'node:net';

export type FrameViolation =
  { reason: 'packet-too-large'; announcedBytes: number } | { reason: 'malformed-length' } | { reason: 'reserved-packet-type' };

/**
 * Walks MQTT fixed headers as bytes arrive, so that a packet announcing more than `maxPacketBytes` closes the
 * connection before its body is buffered. aedes 1.x has no maximum packet size: without this a client can
 * announce a 256 MB PUBLISH (even before CONNECT) and the broker keeps buffering it.
 *
 * Why a 'data' listener and not a Transform in front of aedes: aedes reads with `conn.read()` on 'readable'. With a
 * 'readable' listener present, 'data' is emitted synchronously inside each read() with the same chunk, so this guard
 * sees every byte aedes will parse, without another stream layer on the hot path.
 */
export class MqttFrameScanner {
  private state: 'type' | 'length' | 'body' = 'type';
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private remaining = 0;

  constructor(private readonly maxPacketBytes: number) {}

  /** Scans one chunk; returns a violation as soon as one is seen. */
  scan(chunk: Buffer): FrameViolation | undefined {
    let i = 0;
    const size = chunk.length;
    while (i < size) {
      if (this.state === 'body') {
        const take = Math.min(this.remaining, size - i);
        i += take;
        this.remaining -= take;
        if (this.remaining === 0) this.state = 'type';
        continue;
      }
      const byte = chunk[i++] as number;
      if (this.state === 'type') {
        if (byte >> 4 === 0) return { reason: 'reserved-packet-type' };
        this.state = 'length';
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        continue;
      }
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes++;
      if (byte & 0x80) {
        if (this.lengthBytes === 4) return { reason: 'malformed-length' };
        continue;
      }
      const announcedBytes = 1 + this.lengthBytes + this.length;
      if (announcedBytes > this.maxPacketBytes) return { reason: 'packet-too-large', announcedBytes };
      this.remaining = this.length;
      this.state = this.remaining === 0 ? 'type' : 'body';
    }
    return undefined;
  }
}

/** Attach after aedes has taken the socket (it must own 'readable'); destroys the socket on the first violation. */
export function guardSocketFrames(socket: Socket, maxPacketBytes: number, onViolation: (violation: FrameViolation) => void): void {
  const scanner = new MqttFrameScanner(maxPacketBytes);
  const inspect = (chunk: Buffer) => {
    const violation = scanner.scan(chunk);
    if (!violation) return;
    socket.removeListener('data', inspect);
    socket.destroy();
    onViolation(violation);
  };
  socket.on('data', inspect);
}
