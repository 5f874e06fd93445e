import type { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { installPersistenceShortcut } from '../../../edge/broker/persistence-shortcut.js';
import { installPublishShortcut, type PublishShortcut } from '../../../edge/broker/publish-shortcut.js';
import { installRoutingShortcut, type RoutingShortcut } from '../../../edge/broker/routing-shortcut.js';
import { startBareAedes, type BareAedes } from '../../helpers/bare-aedes.js';
import { eventually } from '../../helpers/test-gateway.js';

/**
 * PublishShortcut on a real aedes with both subscription mirrors, as the gateway's broker installs it: a message no
 * subscription could match goes straight to `published`; everything aedes' own steps would act on still takes them.
 */
describe('installPublishShortcut in aedes', () => {
  let broker: BareAedes | undefined;

  afterEach(async () => {
    await broker?.close();
    broker = undefined;
  });

  async function start(): Promise<{ aedes: Aedes; shortcut: PublishShortcut; published: string[] }> {
    const published: string[] = [];
    let routing: RoutingShortcut | undefined;
    let shortcut: PublishShortcut | undefined;
    broker = await startBareAedes(
      {
        published: (packet, client, done) => {
          if (client) published.push(`${packet.topic} qos${packet.qos}`);
          done(null);
        },
      },
      {
        beforeListen: (aedes) => (routing = installRoutingShortcut(aedes)),
        afterListen: (aedes) => {
          const persistence = installPersistenceShortcut(aedes);
          if (!routing || !persistence) throw new Error('aedes keeps its emitter or persistence elsewhere');
          shortcut = installPublishShortcut(aedes, routing, persistence);
        },
      },
    );
    if (!shortcut) throw new Error('aedes has no publish/published/listenerCount: the shortcut was not installed');
    return { aedes: broker.aedes, shortcut, published };
  }

  const client = (clientId: string, clean = true) => (broker as BareAedes).client(clientId, { clean });

  it('hands QoS 0 and 1 messages nobody could be subscribed to straight to `published`', async () => {
    const { shortcut, published } = await start();
    const device = await client('device');
    await device.publishAsync('store/s1/shelf/sh1/weight', '{"facing":1}', { qos: 0 });
    await device.publishAsync('store/s1/shelf/sh1/weight', '{"facing":2}', { qos: 1 });
    await eventually(() => expect(published).toEqual(['store/s1/shelf/sh1/weight qos0', 'store/s1/shelf/sh1/weight qos1']));
    expect(shortcut.shortcuts).toBe(2);
  });

  it('leaves to aedes a message a live subscription matches, and delivers it', async () => {
    const { shortcut, published } = await start();
    const listener = await client('listener');
    const device = await client('device');
    const received: string[] = [];
    listener.on('message', (topic, payload) => received.push(`${topic} ${payload.toString()}`));
    await listener.subscribeAsync('store/s1/+/sh1/weight', { qos: 0 });
    await device.publishAsync('store/s1/shelf/sh1/weight', 'a', { qos: 0 });
    await eventually(() => expect(received).toEqual(['store/s1/shelf/sh1/weight a']));
    expect(published).toEqual(['store/s1/shelf/sh1/weight qos0']);
    expect(shortcut.shortcuts).toBe(0);
  });

  it("leaves to aedes a QoS 1 message an offline persistent session's stored subscription matches: it is queued", async () => {
    const { shortcut } = await start();
    const sleeper = await client('sleeper', false);
    await sleeper.subscribeAsync('store/s1/shelf/sh1/weight', { qos: 1 });
    await sleeper.endAsync();
    const device = await client('device');
    await device.publishAsync('store/s1/shelf/sh1/weight', 'while away', { qos: 1 });
    expect(shortcut.shortcuts).toBe(0);

    // listening before the CONNACK: the queued message may come right behind it
    const bare = broker as BareAedes;
    const back = bare.track(mqtt.connect(bare.url, { clientId: 'sleeper', clean: false, reconnectPeriod: 0, protocolVersion: 4 }));
    const received: string[] = [];
    back.on('message', (_topic, payload) => received.push(payload.toString()));
    await eventually(() => expect(received).toEqual(['while away']));
  });

  it('leaves to aedes a retained message (it is stored for later subscribers) and QoS 2', async () => {
    const { shortcut, published } = await start();
    const device = await client('device');
    await device.publishAsync('store/s1/shelf/sh1/status', 'kept', { qos: 0, retain: true });
    await device.publishAsync('store/s1/shelf/sh1/weight', 'exactly once', { qos: 2 });
    await eventually(() => expect(published).toHaveLength(2));
    expect(shortcut.shortcuts).toBe(0);

    const late = await client('late');
    const received: string[] = [];
    late.on('message', (_topic, payload) => received.push(payload.toString()));
    await late.subscribeAsync('store/s1/shelf/sh1/status', { qos: 0 });
    await eventually(() => expect(received).toEqual(['kept']));
  });

  it("leaves every message to aedes while someone listens to its 'publish' event", async () => {
    const { aedes, shortcut } = await start();
    const heard: string[] = [];
    const onPublish = (packet: { topic: string }, client: unknown) => {
      if (client) heard.push(packet.topic);
    };
    aedes.on('publish', onPublish);
    const device = await client('device');
    await device.publishAsync('store/s1/shelf/sh1/weight', 'x', { qos: 1 });
    await eventually(() => expect(heard).toEqual(['store/s1/shelf/sh1/weight']));
    expect(shortcut.shortcuts).toBe(0);

    aedes.off('publish', onPublish);
    await device.publishAsync('store/s1/shelf/sh1/weight', 'y', { qos: 1 });
    expect(shortcut.shortcuts).toBe(1);
  });
});
