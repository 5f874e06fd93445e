/**
 * Issue 21 §3: a keepalive outside the accepted range is refused with a return code MQTT 3.1.1 defines — 5, "not
 * authorized" (aedes' own check answered 6, which 3.1.1 reserves) — and keepalive 0 (allowed by the spec: "no
 * keepalive") is accepted and held to the longest keepalive the gateway accepts. Checked with raw CONNECT bytes (the
 * CONNACK return code byte itself) and with Debian's mosquitto_pub, a client we did not write.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextEvent, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { RawMqttConnection, connectBytes } from './raw-mqtt-client.js';

const MOSQUITTO_PUB = '/usr/bin/mosquitto_pub';
const haveMosquittoPub = existsSync(MOSQUITTO_PUB);
if (!haveMosquittoPub && process.env.CI) throw new Error('mosquitto_pub not found: install the Debian package mosquitto-clients');

const SECRET = 'shelf-k-secret-0123456789abcdef';

describe('keepalive range at CONNECT (raw bytes)', () => {
  const MAX_KEEPALIVE_SEC = 2;
  let gw: TestGateway;
  const connections: RawMqttConnection[] = [];

  beforeAll(async () => {
    gw = await startTestGateway({ overrides: { mqtt: { maxKeepaliveSec: MAX_KEEPALIVE_SEC } } });
    await gw.built.devices.registry.provision('shelf-k', 'shelf', SECRET);
  });
  afterAll(async () => {
    for (const connection of connections) connection.destroy();
    await gw.dispose();
  });

  async function connectWith(keepalive: number): Promise<RawMqttConnection> {
    const connection = await RawMqttConnection.open(gw.built.broker.port);
    connections.push(connection);
    connection.write(connectBytes({ clientId: 'shelf-k', username: 'shelf-k', password: SECRET, keepalive }));
    return connection;
  }

  it('a keepalive above mqtt.maxKeepaliveSec is refused with CONNACK 5 (not authorized) and counted', async () => {
    const before = await gw.built.metrics.value('smartstore_mqtt_connections_rejected_total', { reason: 'keepalive' });
    const connection = await connectWith(MAX_KEEPALIVE_SEC + 1);
    expect(await connection.connack()).toBe(5);
    await connection.closed();
    expect(await gw.built.metrics.value('smartstore_mqtt_connections_rejected_total', { reason: 'keepalive' })).toBe(before + 1);
  });

  it('the range ends at mqtt.maxKeepaliveSec: that keepalive itself is accepted', async () => {
    const connection = await connectWith(MAX_KEEPALIVE_SEC);
    expect(await connection.connack()).toBe(0);
    connection.destroy();
  });

  it('keepalive 0 is accepted, and a connection that then says nothing is closed after 1.5 × maxKeepaliveSec', async () => {
    const connection = await connectWith(0);
    expect(await connection.connack()).toBe(0);
    const connackAt = Date.now();
    const closedAt = await connection.closed(MAX_KEEPALIVE_SEC * 1_500 + 5_000);
    expect(closedAt - connackAt).toBeGreaterThanOrEqual(MAX_KEEPALIVE_SEC * 1_500 - 100);
    expect(closedAt - connackAt).toBeLessThan(MAX_KEEPALIVE_SEC * 1_500 + 2_000);
  });
});

describe.skipIf(!haveMosquittoPub)("keepalive with Debian's mosquitto_pub (-k)", () => {
  let gw: TestGateway;

  beforeAll(async () => {
    // the default range (1–300 s)
    gw = await startTestGateway();
    await gw.built.devices.registry.provision('shelf-k', 'shelf', SECRET);
  });
  afterAll(async () => gw.dispose());

  const publish = (keepalive: number, weightG: number) =>
    promisify(execFile)(
      MOSQUITTO_PUB,
      [
        '-h',
        '127.0.0.1',
        '-p',
        String(gw.built.broker.port),
        '-i',
        'shelf-k',
        '-u',
        'shelf-k',
        '-P',
        SECRET,
        '-k',
        String(keepalive),
        '-q',
        '1',
        '-t',
        'store/test-store/shelf/shelf-k/weight',
        '-m',
        JSON.stringify({ facing: 1, weightG, ts: Date.now() }),
      ],
      { timeout: 10_000 },
    );

  // mosquitto_pub 2.0 itself refuses -k 0 ("must be between 5 and 65535"): keepalive 0 is tested with raw bytes above
  it('-k 300, the top of the range, connects and its reading arrives', async () => {
    const arrived = nextEvent(gw, 'device.message:shelf/weight', (m) => m.deviceId === 'shelf-k' && m.payload.weightG === 1_000);
    await publish(300, 1_000);
    expect((await arrived).deviceId).toBe('shelf-k');
  });

  it('-k above the range is refused, and mosquitto_pub reports the 3.1.1 reason "not authorised"', async () => {
    const refused = await publish(301, 1_001).then(
      () => undefined,
      (error: { code?: number; stderr?: string }) => error,
    );
    expect(refused?.code).not.toBe(0);
    expect(refused?.stderr).toMatch(/not authori[sz]ed/i);
  });
});
