import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

/** Connects and resolves with the CONNACK outcome instead of throwing, so refusals can be asserted. */
function tryConnect(url: string, options: mqtt.IClientOptions): Promise<{ ok: boolean; code?: number; client: mqtt.MqttClient }> {
  return new Promise((resolve) => {
    const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 3_000, ...options });
    client.once('connect', () => resolve({ ok: true, client }));
    client.once('error', (error) => {
      client.end(true);
      resolve({ ok: false, code: (error as { code?: number }).code, client });
    });
  });
}

describe('broker authentication and per-device ACL', () => {
  let gw: TestGateway;
  let shelfASecret: string;

  beforeAll(async () => {
    gw = await startTestGateway();
    shelfASecret = await gw.built.devices.registry.provision('shelf-a', 'shelf');
    await gw.built.devices.registry.provision('shelf-b', 'shelf');
  });
  afterAll(async () => gw.dispose());

  const rejected = (reason: string) => gw.built.metrics.value('smartstore_mqtt_connections_rejected_total', { reason });

  it('refuses anonymous clients', async () => {
    const result = await tryConnect(gw.mqttUrl, { clientId: 'shelf-a' });
    expect(result.ok).toBe(false);
    expect(result.code).toBe(4);
    expect(await rejected('no-credentials')).toBe(1);
  });

  it('refuses a wrong secret and an unknown device', async () => {
    const wrong = await tryConnect(gw.mqttUrl, { clientId: 'shelf-a', username: 'shelf-a', password: 'not-the-secret' });
    expect(wrong).toMatchObject({ ok: false, code: 4 });
    const unknown = await tryConnect(gw.mqttUrl, { clientId: 'ghost-1', username: 'ghost-1', password: 'whatever' });
    expect(unknown).toMatchObject({ ok: false, code: 4 });
    expect(await rejected('bad-secret')).toBe(1);
    expect(await rejected('unknown-device')).toBe(1);
  });

  it('refuses a client id that is not the device id', async () => {
    const result = await tryConnect(gw.mqttUrl, { clientId: 'someone-else', username: 'shelf-a', password: shelfASecret });
    expect(result).toMatchObject({ ok: false, code: 2 });
    expect(await rejected('client-id-mismatch')).toBe(1);
  });

  it("closes shelf A's connection when it publishes on shelf B's topic, and ingests nothing from it", async () => {
    const { client, ok } = await tryConnect(gw.mqttUrl, { clientId: 'shelf-a', username: 'shelf-a', password: shelfASecret });
    expect(ok).toBe(true);
    const before = await gw.built.metrics.value('smartstore_device_messages_total');
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.publish('store/test-store/shelf/shelf-b/weight', JSON.stringify({ facing: 1, weightG: 100, ts: Date.now() }));
    await closed;
    expect(await gw.built.metrics.value('smartstore_mqtt_publish_rejected_total', { reason: 'acl' })).toBe(1);
    expect(await gw.built.metrics.value('smartstore_device_messages_total')).toBe(before);
    client.end(true);
  });

  it('refuses publishing on its own command topic (only the gateway sends commands)', async () => {
    const { client } = await tryConnect(gw.mqttUrl, { clientId: 'shelf-a', username: 'shelf-a', password: shelfASecret });
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.publish('store/test-store/shelf/shelf-a/cmd', '{}');
    await closed;
    expect(await gw.built.metrics.value('smartstore_mqtt_publish_rejected_total', { reason: 'acl' })).toBe(2);
    client.end(true);
  });

  it("refuses subscribing to another device's commands, wildcards and $SYS, but grants its own command topic", async () => {
    const { client } = await tryConnect(gw.mqttUrl, { clientId: 'shelf-a', username: 'shelf-a', password: shelfASecret });
    // mqtt.js turns any refused topic into an error, so read the SUBACK itself
    const suback = new Promise<number[]>((resolve) =>
      client.on('packetreceive', (packet) => {
        if (packet.cmd === 'suback') resolve(packet.granted as number[]);
      }),
    );
    // the bus hears of the subscriptions the broker holds, the refused ones left out (drivers wait for it before sending)
    const subscribedEvents: { deviceId: string; topics: readonly string[] }[] = [];
    const unsubscribe = gw.built.bus.on(
      'device.subscribed',
      'test:acl',
      (event) => void subscribedEvents.push({ deviceId: event.deviceId, topics: event.topics }),
    );
    client.subscribe(
      ['store/test-store/shelf/shelf-b/cmd', 'store/test-store/#', '$SYS/#', 'store/test-store/shelf/shelf-a/cmd'],
      () => undefined,
    );
    expect(await suback).toEqual([128, 128, 128, 0]);
    expect(await gw.built.metrics.value('smartstore_mqtt_subscribe_rejected_total')).toBe(3);
    await eventually(() => (subscribedEvents.length > 0 ? true : undefined), 2_000, 'device.subscribed');
    expect(subscribedEvents).toEqual([{ deviceId: 'shelf-a', topics: ['store/test-store/shelf/shelf-a/cmd'] }]);
    unsubscribe();

    // and it really receives its own commands
    const received = new Promise<string>((resolve) => client.once('message', (_topic, payload) => resolve(payload.toString())));
    const command = gw.built.devices.commands.send({ deviceId: 'shelf-a', kind: 'shelf', type: 'tare', timeoutMs: 2_000 });
    expect(JSON.parse(await received)).toEqual({ cmdId: expect.any(String) as string, type: 'tare', ts: expect.any(Number) as number });
    // no ack from this client: the command ends timed out, not confirmed
    expect(await command).toMatchObject({ outcome: 'timed-out', deviceId: 'shelf-a' });
    await client.endAsync();
  });

  it('accepts a valid device publishing on its own topic', async () => {
    const device = await gw.connectDevice('shelf-d', 'shelf');
    const before = await gw.built.metrics.value('smartstore_device_messages_total', { channel: 'shelf/weight' });
    await device.publishAsync('store/test-store/shelf/shelf-d/weight', JSON.stringify({ facing: 1, weightG: 50, ts: Date.now() }), {
      qos: 1,
    });
    await eventually(async () =>
      (await gw.built.metrics.value('smartstore_device_messages_total', { channel: 'shelf/weight' })) === before + 1 ? true : undefined,
    );
  });

  it('a device whose secret is being guessed is throttled for the guesser but not locked out itself', async () => {
    const secret = await gw.built.devices.registry.provision('shelf-t', 'shelf');
    const first = await tryConnect(gw.mqttUrl, { clientId: 'shelf-t', username: 'shelf-t', password: secret });
    expect(first.ok).toBe(true);
    await first.client.endAsync();
    // 15 wrong guesses: past the 10-per-minute limit the guesser is refused without a secret check
    for (let i = 0; i < 15; i++) {
      const guess = await tryConnect(gw.mqttUrl, { clientId: 'shelf-t', username: 'shelf-t', password: `guess-${i}` });
      expect(guess.ok).toBe(false);
    }
    expect(await rejected('too-many-failures')).toBe(5);
    // the real device, whose secret was verified before, still gets in
    const again = await tryConnect(gw.mqttUrl, { clientId: 'shelf-t', username: 'shelf-t', password: secret });
    expect(again.ok).toBe(true);
    await again.client.endAsync();
  });
});
