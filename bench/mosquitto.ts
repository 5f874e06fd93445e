/**
 * Mosquitto (Debian's /usr/sbin/mosquitto) as a baseline broker: generated config in a temp dir, 127.0.0.1 only,
 * anonymous, no persistence, no logging, TCP_NODELAY like the node brokers. Ingested messages are read from its own
 * counter `$SYS/broker/publish/messages/received` (published every second), so mosquitto is not made to deliver the
 * load to a subscriber that the node brokers do not have.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { makeTempDir, removeTempDir, track } from './ipc.js';
import { rssOf } from './procfs.js';

export const MOSQUITTO_BIN = '/usr/sbin/mosquitto';

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export type CounterSample = { count: number; atNs: bigint };

export class MosquittoBroker {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly port: number,
  ) {}

  static async start(): Promise<MosquittoBroker> {
    if (!existsSync(MOSQUITTO_BIN))
      throw new Error(`${MOSQUITTO_BIN} not found: the baseline needs Debian's mosquitto (apt-get install mosquitto)`);
    const dir = await makeTempDir('mosquitto');
    const port = await freePort();
    const configFile = join(dir, 'mosquitto.conf');
    await writeFile(
      configFile,
      [
        `listener ${port} 127.0.0.1`,
        'allow_anonymous true',
        'persistence false',
        'sys_interval 1',
        // BENCH_MOSQUITTO_LOG=1 shows connects and disconnects when a run misbehaves
        process.env.BENCH_MOSQUITTO_LOG === '1' ? 'log_dest stderr' : 'log_dest none',
        'set_tcp_nodelay true',
        '',
      ].join('\n'),
    );
    const child = track(spawn(MOSQUITTO_BIN, ['-c', configFile], { stdio: ['ignore', 'ignore', 'inherit'] }));
    const exited = new Promise<never>((_, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`mosquitto exited with ${code}`)));
    });
    exited.catch(() => undefined);
    await Promise.race([waitForPort(port, 5_000), exited]);
    return new MosquittoBroker(child, dir, port);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  rssBytes(): number {
    return rssOf(this.pid);
  }

  /** Subscribes to mosquitto's publish counter; `samples` grows by one a second. */
  async counter(): Promise<{ samples: CounterSample[]; close: () => Promise<void> }> {
    const samples: CounterSample[] = [];
    const client: MqttClient = await mqtt.connectAsync(`mqtt://127.0.0.1:${this.port}`, {
      clientId: 'bench-sys-reader',
      reconnectPeriod: 0,
    });
    client.on('message', (_topic, payload) => samples.push({ count: Number(payload.toString()), atNs: process.hrtime.bigint() }));
    await client.subscribeAsync('$SYS/broker/publish/messages/received');
    return { samples, close: () => client.endAsync(true) };
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await removeTempDir(this.dir);
  }
}
