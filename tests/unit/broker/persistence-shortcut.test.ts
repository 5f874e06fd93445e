import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import {
  PersistenceShortcut,
  installPersistenceShortcut,
  type SubscriptionPersistence,
} from '../../../edge/broker/persistence-shortcut.js';
import { startBareAedes, type BareAedes } from '../../helpers/bare-aedes.js';
import { eventually } from '../../helpers/test-gateway.js';

/** A persistence whose calls finish when the test says so, recording the lookups that reach it. */
function fakePersistence() {
  const pending: Array<() => void> = [];
  const lookedUp: string[] = [];
  const later = () => new Promise<void>((resolve) => pending.push(resolve));
  const persistence: SubscriptionPersistence = {
    addSubscriptions: later,
    removeSubscriptions: later,
    cleanSubscriptions: later,
    subscriptionsByTopic: async (topic) => {
      lookedUp.push(topic);
      return [];
    },
    outgoingEnqueueCombi: async () => undefined,
  };
  const finish = async () => {
    for (const resolve of pending.splice(0)) resolve();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { persistence, lookedUp, finish };
}

const client = { id: 'ap-1' };
const cmd = 'store/s1/ap/ap-1/cmd';

describe('PersistenceShortcut', () => {
  it('answers a lookup no stored QoS > 0 filter could match without the persistence', async () => {
    const { persistence, lookedUp, finish } = fakePersistence();
    const shortcut = new PersistenceShortcut(persistence);
    shortcut.install();
    void persistence.addSubscriptions(client, [
      { topic: cmd, qos: 1 },
      { topic: 'store/s1/ap/ap-1/other', qos: 0 },
    ]);
    await finish();

    expect(await persistence.subscriptionsByTopic('store/s1/shelf/sh1/weight')).toEqual([]);
    expect(lookedUp).toEqual([]);
    expect(shortcut.shortcuts).toBe(1);
    await persistence.subscriptionsByTopic(cmd);
    // a QoS 0 subscription is not stored in the persistence's trie: not looked up either
    await persistence.subscriptionsByTopic('store/s1/ap/ap-1/other');
    expect(lookedUp).toEqual([cmd]);
  });

  it('keeps a filter until its removal has finished, and when it was stored again meanwhile', async () => {
    const { persistence, finish } = fakePersistence();
    const shortcut = new PersistenceShortcut(persistence);
    shortcut.install();
    void persistence.addSubscriptions(client, [{ topic: cmd, qos: 1 }]);
    await finish();

    void persistence.removeSubscriptions(client, [cmd]);
    expect(shortcut.mayMatch(cmd)).toBe(true);
    await finish();
    expect(shortcut.mayMatch(cmd)).toBe(false);

    void persistence.addSubscriptions(client, [{ topic: cmd, qos: 1 }]);
    void persistence.cleanSubscriptions(client);
    void persistence.addSubscriptions(client, [{ topic: cmd, qos: 1 }]);
    await finish();
    expect(shortcut.mayMatch(cmd)).toBe(true);

    // a QoS 0 re-subscription takes it out of the trie
    void persistence.addSubscriptions(client, [{ topic: cmd, qos: 0 }]);
    await finish();
    expect(shortcut.mayMatch(cmd)).toBe(false);

    // wildcards count by their first level
    void persistence.addSubscriptions(client, [{ topic: 'store/+/ap/#', qos: 1 }]);
    expect(shortcut.mayMatch('store/s1/shelf/sh1/weight')).toBe(true);
  });
});

describe('installPersistenceShortcut in aedes', () => {
  let broker: BareAedes | undefined;

  afterEach(async () => {
    await broker?.close();
    broker = undefined;
  });

  it('still queues a QoS 1 message for a persistent session that is offline, and skips the lookup for the others', async () => {
    let shortcut: PersistenceShortcut | undefined;
    const bare = await startBareAedes({}, { afterListen: (aedes) => (shortcut = installPersistenceShortcut(aedes)) });
    broker = bare;
    if (!shortcut) throw new Error('the persistence lacks a method the shortcut stands in front of: not installed');
    const connect = (clientId: string, clean: boolean) => bare.client(clientId, { clean });

    const ap = await connect('ap-1', false);
    await ap.subscribeAsync(cmd, { qos: 1 });
    await ap.endAsync();
    const device = await connect('sh1', true);
    const before = shortcut.shortcuts;
    await device.publishAsync('store/s1/shelf/sh1/weight', '{"facing":1}', { qos: 1 });
    expect(shortcut.shortcuts - before).toBe(1);
    await device.publishAsync(cmd, '{"cmdId":"c1"}', { qos: 1 });
    expect(shortcut.shortcuts - before).toBe(1);

    const received: string[] = [];
    const back = bare.track(mqtt.connect(bare.url, { clientId: 'ap-1', clean: false, reconnectPeriod: 0, protocolVersion: 4 }));
    back.on('message', (_topic, payload) => received.push(payload.toString()));
    await eventually(() => expect(received).toEqual(['{"cmdId":"c1"}']));
  });
});
