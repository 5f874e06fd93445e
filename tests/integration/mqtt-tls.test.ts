/**
 * MQTTS with the store CA (issue 17): the CLI makes the CA, the broker's certificate and device certificates; devices
 * log in with a certificate (CN = device id) instead of a secret. Clients: the mqtt package and Debian's mosquitto_pub.
 * Valid accepted; untrusted, expired, revoked and another device's certificate refused; a revoked certificate's live
 * session is closed within a second.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../edge/cli/program.js';
import { createCertificateAuthority, issueCertificate } from '../../edge/pki/certificate-authority.js';
import { eventually, nextEvent, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const MOSQUITTO_PUB = '/usr/bin/mosquitto_pub';
const haveMosquittoPub = existsSync(MOSQUITTO_PUB);
if (!haveMosquittoPub && process.env.CI) throw new Error('mosquitto_pub not found: install the Debian package mosquitto-clients');

let dir: string;
let certs: string;
let gw: TestGateway;
let configFile: string;
const clients: MqttClient[] = [];

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io = {
    env: {},
    cwd: dir,
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    onSignal: () => () => undefined,
  };
  const code = await runCli([...args, '--config', configFile], io);
  return { code, stdout, stderr };
}

const file = (name: string) => readFile(join(certs, name), 'utf8');

/** Connects over MQTTS with a certificate and no password; resolves the CONNACK outcome. */
function connectWithCertificate(
  clientId: string,
  cert: string,
  key: string,
): Promise<{ ok: true; client: MqttClient } | { ok: false; code: number | undefined; error: string }> {
  return new Promise((resolve) => {
    void file('ca.crt').then((ca) => {
      const client = mqtt.connect(`mqtts://127.0.0.1:${gw.built.broker.tlsPort}`, {
        clientId,
        ca,
        cert,
        key,
        reconnectPeriod: 0,
        connectTimeout: 3_000,
        keepalive: 30,
      });
      clients.push(client);
      client.once('connect', () => resolve({ ok: true, client }));
      client.once('error', (error: Error & { code?: number }) => {
        client.end(true);
        resolve({ ok: false, code: error.code, error: error.message });
      });
      client.once('close', () => resolve({ ok: false, code: undefined, error: 'closed' }));
    });
  });
}

const rejected = (reason: string) => gw.built.metrics.value('smartstore_mqtt_connections_rejected_total', { reason });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smartstore-mqtts-'));
  certs = join(dir, 'certs');
  configFile = join(dir, 'cli.yaml');
  const dataDir = join(dir, 'data');
  await writeFile(
    configFile,
    stringify({ storeId: 'test-store', dataDir, log: { level: 'silent', pretty: false }, security: { scryptCost: 1024 } }),
  );
  expect((await cli(['ca', 'init'])).code).toBe(0);
  expect((await cli(['ca', 'init'])).code).toBe(1); // an existing CA is never overwritten
  expect((await cli(['ca', 'server', '127.0.0.1', 'localhost', '--out', certs])).code).toBe(0);
  gw = await startTestGateway({
    dataDir,
    overrides: {
      mqtt: {
        tls: {
          port: 0,
          certFile: join(certs, 'server.crt'),
          keyFile: join(certs, 'server.key'),
          clientCaFile: null,
          clientCertificates: 'optional',
        },
      },
    },
  });
  await gw.built.devices.registry.provision('shelf-a', 'shelf');
  await gw.built.devices.registry.provision('shelf-b', 'shelf');
  expect((await cli(['ca', 'issue', 'shelf-a', '--out', certs])).code).toBe(0);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
  await gw?.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('MQTTS and device certificates', () => {
  it('a valid certificate logs the device in without a secret; its readings arrive', async () => {
    const result = await connectWithCertificate('shelf-a', await file('shelf-a.crt'), await file('shelf-a.key'));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const arrived = nextEvent(gw, 'device.message:shelf/weight', (m) => m.deviceId === 'shelf-a');
    await result.client.publishAsync(
      'store/test-store/shelf/shelf-a/weight',
      JSON.stringify({ facing: 1, weightG: 5_200, ts: Date.now() }),
      { qos: 1 },
    );
    expect((await arrived).payload.weightG).toBe(5_200);
    await result.client.endAsync();
  });

  it.skipIf(!haveMosquittoPub)("Debian's mosquitto_pub with the device certificate is accepted, with another CA's refused", async () => {
    const arrived = nextEvent(gw, 'device.message:shelf/weight', (m) => m.deviceId === 'shelf-a' && m.payload.weightG === 4_160);
    const args = [
      '-h',
      '127.0.0.1',
      '-p',
      String(gw.built.broker.tlsPort),
      '--cafile',
      join(certs, 'ca.crt'),
      '--cert',
      join(certs, 'shelf-a.crt'),
      '--key',
      join(certs, 'shelf-a.key'),
      '-i',
      'shelf-a',
      '-q',
      '1',
    ];
    await promisify(execFile)(
      MOSQUITTO_PUB,
      [...args, '-t', 'store/test-store/shelf/shelf-a/weight', '-m', JSON.stringify({ facing: 1, weightG: 4_160, ts: Date.now() })],
      { timeout: 5_000 },
    );
    expect((await arrived).deviceId).toBe('shelf-a');

    const otherCa = await createCertificateAuthority('elsewhere', Date.now());
    const foreign = await issueCertificate({ ca: otherCa, commonName: 'shelf-a', usage: 'client', now: Date.now(), validityDays: 30 });
    await writeFile(join(certs, 'foreign.crt'), foreign.certPem);
    await writeFile(join(certs, 'foreign.key'), foreign.keyPem, { mode: 0o600 });
    const foreignArgs = args.map((arg) => arg.replace('shelf-a.crt', 'foreign.crt').replace('shelf-a.key', 'foreign.key'));
    const refused = promisify(execFile)(MOSQUITTO_PUB, [...foreignArgs, '-t', 'store/test-store/shelf/shelf-a/weight', '-m', '{}'], {
      timeout: 5_000,
    });
    await expect(refused).rejects.toMatchObject({ code: expect.any(Number) as number });
  });

  it("refused: a certificate from another CA, an expired one, and another device's; each counted under its reason", async () => {
    const otherCa = await createCertificateAuthority('elsewhere', Date.now());
    const foreign = await issueCertificate({ ca: otherCa, commonName: 'shelf-a', usage: 'client', now: Date.now(), validityDays: 30 });
    const untrustedBefore = await rejected('certificate-untrusted');
    expect(await connectWithCertificate('shelf-a', foreign.certPem, foreign.keyPem)).toMatchObject({ ok: false, code: 5 });

    const storeCa = {
      certPem: await readFile(join(dir, 'data', 'pki', 'ca.crt'), 'utf8'),
      keyPem: await readFile(join(dir, 'data', 'pki', 'ca.key'), 'utf8'),
    };
    const expired = await issueCertificate({
      ca: storeCa,
      commonName: 'shelf-a',
      usage: 'client',
      now: Date.now() - 10 * 86_400_000,
      validityDays: 1,
    });
    expect(await connectWithCertificate('shelf-a', expired.certPem, expired.keyPem)).toMatchObject({ ok: false, code: 5 });
    expect((await rejected('certificate-untrusted')) - untrustedBefore).toBe(2);

    // shelf-a's certificate used as shelf-b
    const mismatchBefore = await rejected('certificate-mismatch');
    expect(await connectWithCertificate('shelf-b', await file('shelf-a.crt'), await file('shelf-a.key'))).toMatchObject({
      ok: false,
      code: 2,
    });
    expect((await rejected('certificate-mismatch')) - mismatchBefore).toBe(1);
  });

  it('the secret still works over MQTTS when certificates are optional', async () => {
    const secret = await gw.built.devices.registry.rotateSecret('shelf-b');
    const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${gw.built.broker.tlsPort}`, {
      clientId: 'shelf-b',
      username: 'shelf-b',
      password: secret!.secret,
      ca: await file('ca.crt'),
      reconnectPeriod: 0,
    });
    clients.push(client);
    expect(client.connected).toBe(true);
  });

  it('`ca revoke`: the live session is closed within a second and the certificate is refused at the next connect', async () => {
    const live = await connectWithCertificate('shelf-a', await file('shelf-a.crt'), await file('shelf-a.key'));
    expect(live.ok).toBe(true);
    if (!live.ok) return;
    const closed = new Promise<number>((resolve) => live.client.once('close', () => resolve(Date.now())));
    const listed = await cli(['ca', 'list']);
    expect(listed.stdout).toMatch(/\tshelf-a\tclient\tvalid\t/);
    const revokedAt = Date.now();
    const revoke = await cli(['ca', 'revoke', 'shelf-a']);
    expect(revoke.code).toBe(0);
    expect(await closed).toBeLessThan(revokedAt + 1_000);
    const revokedBefore = await rejected('certificate-revoked');
    expect(await connectWithCertificate('shelf-a', await file('shelf-a.crt'), await file('shelf-a.key'))).toMatchObject({
      ok: false,
      code: 5,
    });
    expect((await rejected('certificate-revoked')) - revokedBefore).toBe(1);
    expect((await cli(['ca', 'list'])).stdout).toMatch(/\tshelf-a\tclient\trevoked\t/);
    await eventually(() => (gw.built.devices.liveness.isConnected('shelf-a') ? undefined : true), 1_000, 'shelf-a shown disconnected');
  });
});
