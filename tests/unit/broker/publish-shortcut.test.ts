import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { installPersistenceShortcut } from '../../../edge/broker/persistence-shortcut.js';
import { installPublishShortcut, type PublishShortcut } from '../../../edge/broker/publish-shortcut.js';
import { installRoutingShortcut } from '../../../edge/broker/routing-shortcut.js';
import { eventually } from '../../helpers/test-gateway.js';

/**
 * PublishShortcut on a real aedes with both subscription mirrors, as the gateway's broker installs it: a message no
 * subscription could match goes straight to `published`; everything aedes' own steps would act on still takes them.
 */
describe('installPublishShortcut in aedes', () => {
  let server: Server | undefined;
  let broker: Aedes | undefined;
  const clients: mqtt.MqttClient[] = [];

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.endAsync(true)));
    if (broker) await new Promise<void>((resolve) => broker?.close(() => resolve()));
    if (server) await new Promise<void>((resolve) => server?.close(() => resolve()));
    broker = undefined;
    server = undefined;
  });

  async function start(): Promise<{ url: string; aedes: Aedes; shortcut: PublishShortcut; published: string[] }> {
    const published: string[] = [];
    const aedes = new Aedes({
      published: (packet, client, done) => {
        if (client) published.push(`${packet.topic} qos${packet.qos}`);
        done(null);
      },
    });
    const routing = installRoutingShortcut(aedes);
    await aedes.listen();
    const persistence = installPersistenceShortcut(aedes);
    if (!routing || !persistence) throw new Error('aedes keeps its emitter or persistence elsewhere');
    const shortcut = installPublishShortcut(aedes, routing, persistence);
    if (!shortcut) throw new Error('aedes has no publish/published/listenerCount: the shortcut was not installed');
    broker = aedes;
    const tcp = createServer(aedes.handle);
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    server = tcp;
    return { url: `mqtt://127.0.0.1:${(tcp.address() as AddressInfo).port}`, aedes, shortcut, published };
  }

  async function client(url: string, clientId: string, clean = true): Promise<mqtt.MqttClient> {
    const c = await mqtt.connectAsync(url, { clientId, clean, reconnectPeriod: 0, protocolVersion: 4 });
    clients.push(c);
    return c;
  }

  it('hands QoS 0 and 1 messages nobody could be subscribed to straight to `published`', async () => {
    const { url, shortcut, published } = await start();
    const device = await client(url, 'device');
    await device.publishAsync('store/s1/shelf/sh1/weight', '{"facing":1}', { qos: 0 });
    await device.publishAsync('store/s1/shelf/sh1/weight', '{"facing":2}', { qos: 1 });
    await eventually(() => expect(published).toEqual(['store/s1/shelf/sh1/weight qos0', 'store/s1/shelf/sh1/weight qos1']));
    expect(shortcut.shortcuts).toBe(2);
  });

  it('leaves to aedes a message a live subscription matches, and delivers it', async () => {
    const { url, shortcut, published } = await start();
    const listener = await client(url, 'listener');
    const device = await client(url, 'device');
    const received: string[] = [];
    listener.on('message', (topic, payload) => received.push(`${topic} ${payload.toString()}`));
    await listener.subscribeAsync('store/s1/+/sh1/weight', { qos: 0 });
    await device.publishAsync('store/s1/shelf/sh1/weight', 'a', { qos: 0 });
    await eventually(() => expect(received).toEqual(['store/s1/shelf/sh1/weight a']));
    expect(published).toEqual(['store/s1/shelf/sh1/weight qos0']);
    expect(shortcut.shortcuts).toBe(0);
  });

  it("leaves to aedes a QoS 1 message an offline persistent session's stored subscription matches: it is queued", async () => {
    const { url, shortcut } = await start();
    const sleeper = await client(url, 'sleeper', false);
    await sleeper.subscribeAsync('store/s1/shelf/sh1/weight', { qos: 1 });
    await sleeper.endAsync();
    const device = await client(url, 'device');
    await device.publishAsync('store/s1/shelf/sh1/weight', 'while away', { qos: 1 });
    expect(shortcut.shortcuts).toBe(0);

    const back = await mqtt.connectAsync(url, {
      clientId: 'sleeper',
      clean: false,
      reconnectPeriod: 0,
      protocolVersion: 4,
      manualConnect: false,
    });
    clients.push(back);
    const received: string[] = [];
    back.on('message', (_topic, payload) => received.push(payload.toString()));
    await eventually(() => expect(received).toEqual(['while away']));
  });

  it('leaves to aedes a retained message (it is stored for later subscribers) and QoS 2', async () => {
    const { url, shortcut, published } = await start();
    const device = await client(url, 'device');
    await device.publishAsync('store/s1/shelf/sh1/status', 'kept', { qos: 0, retain: true });
    await device.publishAsync('store/s1/shelf/sh1/weight', 'exactly once', { qos: 2 });
    await eventually(() => expect(published).toHaveLength(2));
    expect(shortcut.shortcuts).toBe(0);

    const late = await client(url, 'late');
    const received: string[] = [];
    late.on('message', (_topic, payload) => received.push(payload.toString()));
    await late.subscribeAsync('store/s1/shelf/sh1/status', { qos: 0 });
    await eventually(() => expect(received).toEqual(['kept']));
  });

  it("leaves every message to aedes while someone listens to its 'publish' event", async () => {
    const { url, aedes, shortcut } = await start();
    const heard: string[] = [];
    const onPublish = (packet: { topic: string }, client: unknown) => {
      if (client) heard.push(packet.topic);
    };
    aedes.on('publish', onPublish);
    const device = await client(url, 'device');
    await device.publishAsync('store/s1/shelf/sh1/weight', 'x', { qos: 1 });
    await eventually(() => expect(heard).toEqual(['store/s1/shelf/sh1/weight']));
    expect(shortcut.shortcuts).toBe(0);

    aedes.off('publish', onPublish);
    await device.publishAsync('store/s1/shelf/sh1/weight', 'y', { qos: 1 });
    expect(shortcut.shortcuts).toBe(1);
  });
});
