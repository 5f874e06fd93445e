/**
 * Mosquitto from Debian (/usr/sbin/mosquitto) as the HQ broker of relay tests: started on a free 127.0.0.1 port with a
 * temp config, optionally with a TLS listener whose CA and server certificate are made at test time (@peculiar/x509),
 * and stopped cleanly (SIGTERM, then SIGKILL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @peculiar/x509's dependency injection (tsyringe) needs the Reflect metadata polyfill loaded first; reflect-metadata
// comes with node-opcua-crypto
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

export const MOSQUITTO_BIN = '/usr/sbin/mosquitto';
export const hasMosquitto = existsSync(MOSQUITTO_BIN);

export type Mosquitto = {
  port: number;
  url: string;
  tlsPort: number | undefined;
  tlsUrl: string | undefined;
  /** PEM file of the test CA (when started with tls) */
  caFile: string | undefined;
  dir: string;
  /** the broker's log so far (for a failing test's message) */
  log(): string;
  stop(): Promise<void>;
};

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port} within ${timeoutMs} ms: ${log()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function pem(tag: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${tag}-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END ${tag}-----\n`;
}

/** A test CA and a server certificate for 127.0.0.1/localhost signed by it (ECDSA P-256), as PEM. */
export async function makeTestCertificates(): Promise<{ caCert: string; serverCert: string; serverKey: string }> {
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const caKeys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 24 * 3600_000);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=smartstore test CA',
    notBefore,
    notAfter,
    keys: caKeys as CryptoKeyPair,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  const serverKeys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const server = await x509.X509CertificateGenerator.create({
    serialNumber: '02',
    subject: 'CN=localhost',
    issuer: ca.subject,
    notBefore,
    notAfter,
    publicKey: serverKeys.publicKey as CryptoKey,
    signingKey: caKeys.privateKey as CryptoKey,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(false),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'ip', value: '127.0.0.1' },
        { type: 'dns', value: 'localhost' },
      ]),
    ],
  });
  const serverKey = pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', serverKeys.privateKey));
  return { caCert: ca.toString('pem') + '\n', serverCert: server.toString('pem') + '\n', serverKey };
}

export async function startMosquitto(options: { tls?: boolean; extraConfig?: string[] } = {}): Promise<Mosquitto> {
  const dir = await mkdtemp(join(tmpdir(), 'smartstore-mosquitto-'));
  const port = await freePort();
  const lines = [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence false',
    // HQ queues for a store that is offline; the relay tests send tens of thousands of events
    'max_queued_messages 1000000',
    'max_inflight_messages 0',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
  ];
  // started as root, mosquitto drops to the `mosquitto` user, which cannot read our temp dir (0700)
  if (process.getuid?.() === 0) lines.push('user root');
  let tlsPort: number | undefined;
  let caFile: string | undefined;
  if (options.tls) {
    const certs = await makeTestCertificates();
    caFile = join(dir, 'ca.pem');
    await writeFile(caFile, certs.caCert);
    await writeFile(join(dir, 'server.pem'), certs.serverCert);
    await writeFile(join(dir, 'server-key.pem'), certs.serverKey, { mode: 0o600 });
    tlsPort = await freePort();
    lines.push(
      `listener ${tlsPort} 127.0.0.1`,
      `cafile ${caFile}`,
      `certfile ${join(dir, 'server.pem')}`,
      `keyfile ${join(dir, 'server-key.pem')}`,
      'allow_anonymous true',
    );
  }
  lines.push(...(options.extraConfig ?? []));
  const configFile = join(dir, 'mosquitto.conf');
  await writeFile(configFile, lines.join('\n') + '\n');
  let output = '';
  const child = spawn(MOSQUITTO_BIN, ['-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  const append = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitForPort(port, child, 5_000, () => output);
    if (tlsPort) await waitForPort(tlsPort, child, 5_000, () => output);
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    tlsPort,
    tlsUrl: tlsPort ? `mqtts://127.0.0.1:${tlsPort}` : undefined,
    caFile,
    dir,
    log: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export type HqMessage = {
  topic: string;
  event: { id: string; type: string; data: unknown; [key: string]: unknown };
  historical: boolean;
  receivedAt: number;
};

/** What HQ sees: a subscriber (MQTT 5, QoS 1) collecting every event on `topic`, parsed. */
export async function hqSubscriber(
  url: string,
  topic: string,
  options: IClientOptions = {},
): Promise<{ messages: HqMessage[]; ids(): Set<string>; client: MqttClient; close(): Promise<void> }> {
  const client = await mqtt.connectAsync(url, {
    protocolVersion: 5,
    reconnectPeriod: 0,
    clientId: `hq-${Math.random().toString(16).slice(2)}`,
    ...options,
  });
  const messages: HqMessage[] = [];
  client.on('message', (t, payload, packet) => {
    const historical = packet.properties?.userProperties?.historical === 'true';
    messages.push({ topic: t, event: JSON.parse(payload.toString()) as HqMessage['event'], historical, receivedAt: Date.now() });
  });
  await client.subscribeAsync(topic, { qos: 1 });
  return {
    messages,
    ids: () => new Set(messages.map((m) => m.event.id)),
    client,
    close: () => client.endAsync(true).catch(() => undefined),
  };
}

/** The `hq` config of a test gateway relaying to `url`: fast reconnects and keepalive so tests see link changes quickly. */
export function hqOverrides(url: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    enabled: true,
    url,
    topicPrefix: 'hq-it',
    keepaliveSec: 2,
    connectTimeoutMs: 1_000,
    reconnectMinMs: 50,
    reconnectMaxMs: 300,
    sessionExpirySec: 300,
    ...extra,
  };
}
