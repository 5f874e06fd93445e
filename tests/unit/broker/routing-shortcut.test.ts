import { afterEach, describe, expect, it } from 'vitest';
import { RoutingShortcut, installRoutingShortcut, type MessageEmitter } from '../../../edge/broker/routing-shortcut.js';
import { startBareAedes, type BareAedes } from '../../helpers/bare-aedes.js';
import { eventually } from '../../helpers/test-gateway.js';

type Listener = (packet: unknown, done: () => void) => void;

/** An emitter that records what reaches it and, like mqemitter, removes listeners on a later turn. */
class RecordingEmitter implements MessageEmitter {
  closed = false;
  readonly emitted: string[] = [];
  readonly removals: Array<() => void> = [];
  on(_topic: string, _listener: Listener, done?: () => void): this {
    done?.();
    return this;
  }
  removeListener(_topic: string, _listener: Listener, done?: () => void): this {
    this.removals.push(() => done?.());
    return this;
  }
  emit(packet: { topic: string }, done?: (error?: Error) => void): this {
    this.emitted.push(packet.topic);
    done?.(this.closed ? new Error('closed') : undefined);
    return this;
  }
  close(done: () => void): this {
    this.closed = true;
    done();
    return this;
  }
  /** runs the deferred removals, as mqemitter's setImmediate does */
  removeNow(): void {
    for (const removal of this.removals.splice(0)) removal();
  }
}

const listener: Listener = (_packet, done) => done();
const other: Listener = (_packet, done) => done();

function emitted(shortcut: RoutingShortcut, inner: RecordingEmitter, topic: string): { reached: boolean; answered: boolean } {
  const before = inner.emitted.length;
  let answered = false;
  shortcut.emit({ topic }, () => (answered = true));
  return { reached: inner.emitted.length > before, answered };
}

describe('RoutingShortcut', () => {
  it('answers a message no subscription could match without the emitter, and passes the others on', () => {
    const inner = new RecordingEmitter();
    const shortcut = new RoutingShortcut(inner);
    shortcut.on('$SYS/+/new/clients', listener);
    shortcut.on('store/s1/shelf/sh1/cmd', listener);

    expect(emitted(shortcut, inner, 'store/s1/shelf/sh1/weight')).toEqual({ reached: false, answered: true });
    expect(emitted(shortcut, inner, 'store/s1/shelf/sh1/cmd')).toEqual({ reached: true, answered: true });
    expect(emitted(shortcut, inner, '$SYS/broker-1/new/clients')).toEqual({ reached: true, answered: true });
    expect(shortcut.shortcuts).toBe(1);
  });

  it('passes on every message a wildcard filter could match: by its first level, or all when that level is a wildcard', () => {
    const inner = new RecordingEmitter();
    const shortcut = new RoutingShortcut(inner);
    shortcut.on('store/#', listener);
    expect(shortcut.mayMatch('store/s1/shelf/sh1/weight')).toBe(true);
    expect(shortcut.mayMatch('store')).toBe(true);
    expect(shortcut.mayMatch('stores/s1')).toBe(false);
    expect(shortcut.mayMatch('other/s1')).toBe(false);

    shortcut.on('+/s1/#', other);
    expect(shortcut.mayMatch('other/s1')).toBe(true);
    expect(shortcut.mayMatch('anything')).toBe(true);
  });

  it('counts a subscription until the emitter has removed it, and each listener as often as it was added', () => {
    const inner = new RecordingEmitter();
    const shortcut = new RoutingShortcut(inner);
    const topic = 'store/s1/shelf/sh1/cmd';
    shortcut.on(topic, listener);
    shortcut.on(topic, listener);
    shortcut.on(topic, other);

    shortcut.removeListener(topic, listener);
    // the emitter has not removed it yet: it may still match
    expect(shortcut.mayMatch(topic)).toBe(true);
    inner.removeNow();
    shortcut.removeListener(topic, listener);
    inner.removeNow();
    expect(shortcut.mayMatch(topic)).toBe(true); // `other` is still there
    shortcut.removeListener(topic, other);
    inner.removeNow();
    expect(shortcut.mayMatch(topic)).toBe(false);

    // removing what was never added changes nothing
    shortcut.on(topic, listener);
    shortcut.removeListener(topic, other);
    inner.removeNow();
    expect(shortcut.mayMatch(topic)).toBe(true);
  });

  it('forgets a wildcard filter once removed', () => {
    const inner = new RecordingEmitter();
    const shortcut = new RoutingShortcut(inner);
    shortcut.on('+/#', listener);
    shortcut.removeListener('+/#', listener);
    inner.removeNow();
    expect(shortcut.mayMatch('store/s1/shelf/sh1/weight')).toBe(false);
  });

  it('leaves a closed emitter to answer with its error', () => {
    const inner = new RecordingEmitter();
    const shortcut = new RoutingShortcut(inner);
    shortcut.close(() => undefined);
    let error: Error | undefined;
    shortcut.emit({ topic: 'store/s1/shelf/sh1/weight' }, (e) => (error = e));
    expect(error?.message).toBe('closed');
  });
});

describe('installRoutingShortcut in aedes', () => {
  let broker: BareAedes | undefined;

  afterEach(async () => {
    await broker?.close();
    broker = undefined;
  });

  async function start(): Promise<{ shortcut: RoutingShortcut; published: string[] }> {
    const published: string[] = [];
    let shortcut: RoutingShortcut | undefined;
    broker = await startBareAedes(
      {
        published: (packet, client, done) => {
          if (client) published.push(packet.topic);
          done(null);
        },
      },
      { beforeListen: (aedes) => (shortcut = installRoutingShortcut(aedes)) },
    );
    if (!shortcut) throw new Error('aedes keeps its emitter elsewhere: the shortcut was not installed');
    return { shortcut, published };
  }

  const client = (clientId: string) => (broker as BareAedes).client(clientId);

  it('delivers to exact and wildcard subscribers, skips the match for the rest, and every message reaches `published`', async () => {
    const { shortcut, published } = await start();
    const exact = await client('exact');
    const wild = await client('wild');
    const device = await client('device');
    await exact.subscribeAsync('store/s1/shelf/sh1/cmd', { qos: 1 });
    await wild.subscribeAsync('store/+/case/#', { qos: 0 });
    const toExact: string[] = [];
    const toWild: string[] = [];
    exact.on('message', (topic) => toExact.push(topic));
    wild.on('message', (topic) => toWild.push(topic));

    const before = shortcut.shortcuts;
    await device.publishAsync('store/s1/shelf/sh1/weight', '{"facing":1}', { qos: 1 });
    await device.publishAsync('store/s1/shelf/sh1/cmd', '{"cmdId":"c1"}', { qos: 1 });
    await device.publishAsync('store/s1/case/c1/telemetry', '{}', { qos: 0 });
    await eventually(() => expect(published).toHaveLength(3));
    await eventually(() => expect(toExact).toEqual(['store/s1/shelf/sh1/cmd']));
    await eventually(() => expect(toWild).toEqual(['store/s1/case/c1/telemetry']));
    // while `store/+/case/#` is held every store/… topic goes through the emitter (its first level is `store`)
    expect(shortcut.shortcuts - before).toBe(0);

    await wild.unsubscribeAsync('store/+/case/#');
    await eventually(() => expect(shortcut.mayMatch('store/s1/shelf/sh1/weight')).toBe(false));
    await device.publishAsync('store/s1/shelf/sh1/weight', '{"facing":2}', { qos: 1 });
    await eventually(() => expect(published).toHaveLength(4));
    expect(shortcut.shortcuts - before).toBe(1);
    await device.publishAsync('store/s1/shelf/sh1/cmd', '{"cmdId":"c2"}', { qos: 1 });
    await eventually(() => expect(toExact).toEqual(['store/s1/shelf/sh1/cmd', 'store/s1/shelf/sh1/cmd']));
  });
});
