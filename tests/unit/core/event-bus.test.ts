import { describe, expect, it } from 'vitest';
import { EventBus, type HandlerErrorReport } from '../../../edge/core/event-bus.js';
import { GatewayBus } from '../../../edge/core/events.js';

type TestEvents = { ping: number; pong: string };

function bus(maxSubscribersPerEvent?: number) {
  const reports: HandlerErrorReport[] = [];
  const b = new EventBus<TestEvents>({
    onHandlerError: (report) => reports.push(report),
    ...(maxSubscribersPerEvent ? { maxSubscribersPerEvent } : {}),
  });
  return { b, reports };
}

describe('EventBus', () => {
  it('delivers an event to its subscribers in the order they subscribed, and only to that event', () => {
    const { b } = bus();
    const seen: string[] = [];
    b.on('ping', 'first', (n) => seen.push(`first ${n}`));
    b.on('ping', 'second', (n) => seen.push(`second ${n}`));
    b.on('pong', 'other', (s) => seen.push(`other ${s}`));
    b.emit('ping', 1);
    expect(seen).toEqual(['first 1', 'second 1']);
    b.emit('pong', 'x');
    expect(seen).toEqual(['first 1', 'second 1', 'other x']);
  });

  it('an event nobody subscribed to is fine', () => {
    const { b, reports } = bus();
    expect(() => b.emit('ping', 1)).not.toThrow();
    expect(b.has('ping')).toBe(false);
    expect(reports).toEqual([]);
  });

  it('a subscriber that throws is reported with its name and the event; the others still get it, and it gets the next one', () => {
    const { b, reports } = bus();
    const seen: string[] = [];
    const boom = new Error('boom');
    b.on('ping', 'before', (n) => seen.push(`before ${n}`));
    b.on('ping', 'thrower', (n) => {
      seen.push(`thrower ${n}`);
      if (n === 1) throw boom;
    });
    b.on('ping', 'after', (n) => seen.push(`after ${n}`));

    expect(() => b.emit('ping', 1)).not.toThrow();
    expect(reports).toEqual([{ event: 'ping', handler: 'thrower', error: boom }]);
    expect(seen).toEqual(['before 1', 'thrower 1', 'after 1']);

    b.emit('ping', 2);
    expect(seen).toEqual(['before 1', 'thrower 1', 'after 1', 'before 2', 'thrower 2', 'after 2']);
    expect(reports).toHaveLength(1);
  });

  it('every throw is reported, also a thrown non-Error', () => {
    const { b, reports } = bus();
    b.on('pong', 'stringly', () => {
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- a handler that throws a non-Error is what this test is about
      throw 'nope';
    });
    b.emit('pong', 'a');
    b.emit('pong', 'b');
    expect(reports).toEqual([
      { event: 'pong', handler: 'stringly', error: 'nope' },
      { event: 'pong', handler: 'stringly', error: 'nope' },
    ]);
  });

  it('an error reporter that throws does not stop delivery', () => {
    const b = new EventBus<TestEvents>({
      onHandlerError: () => {
        throw new Error('logger closed');
      },
    });
    const seen: number[] = [];
    b.on('ping', 'thrower', () => {
      throw new Error('boom');
    });
    b.on('ping', 'after', (n) => seen.push(n));
    expect(() => b.emit('ping', 7)).not.toThrow();
    expect(seen).toEqual([7]);
  });

  it('reportHandlerError counts a failure of a subscriber that runs outside emit', () => {
    const { b, reports } = bus();
    const error = new Error('stream failed');
    b.reportHandlerError('stock.output', 'stock-pipeline', error);
    expect(reports).toEqual([{ event: 'stock.output', handler: 'stock-pipeline', error }]);
  });

  it('unsubscribing stops delivery to that subscriber only; unsubscribing twice is harmless', () => {
    const { b } = bus();
    const seen: string[] = [];
    const offA = b.on('ping', 'a', (n) => seen.push(`a ${n}`));
    b.on('ping', 'b', (n) => seen.push(`b ${n}`));
    expect(b.subscriberCount('ping')).toBe(2);
    offA();
    offA();
    expect(b.subscriberCount('ping')).toBe(1);
    b.emit('ping', 1);
    expect(seen).toEqual(['b 1']);
  });

  it('the same function subscribed twice is two subscriptions, removed one at a time', () => {
    const { b } = bus();
    let calls = 0;
    const handler = () => void calls++;
    const off1 = b.on('ping', 'h', handler);
    b.on('ping', 'h', handler);
    b.emit('ping', 1);
    expect(calls).toBe(2);
    off1();
    b.emit('ping', 2);
    expect(calls).toBe(3);
  });

  it('a subscriber added or removed during delivery takes effect with the next event', () => {
    const { b } = bus();
    const seen: string[] = [];
    let offLate: (() => void) | undefined;
    const offSelf = b.on('ping', 'once', (n) => {
      seen.push(`once ${n}`);
      offSelf();
      offLate = b.on('ping', 'late', (m) => seen.push(`late ${m}`));
    });
    b.on('ping', 'steady', (n) => seen.push(`steady ${n}`));
    b.emit('ping', 1);
    expect(seen).toEqual(['once 1', 'steady 1']);
    b.emit('ping', 2);
    expect(seen).toEqual(['once 1', 'steady 1', 'steady 2', 'late 2']);
    offLate?.();
  });

  it('holds its bound of subscribers per event (a leak fails loudly), and frees a slot on unsubscribe', () => {
    const { b } = bus(3);
    const offs = [b.on('ping', 'a', () => undefined), b.on('ping', 'b', () => undefined), b.on('ping', 'c', () => undefined)];
    expect(() => b.on('ping', 'd', () => undefined)).toThrow(/ping has 3 subscribers already/);
    expect(b.subscriberCount('ping')).toBe(3);
    // the bound is per event
    expect(() => b.on('pong', 'd', () => undefined)).not.toThrow();
    offs[0]!();
    expect(() => b.on('ping', 'd', () => undefined)).not.toThrow();
    expect(b.subscriberCount('ping')).toBe(3);
  });

  it('the default bound is 100 subscribers per event', () => {
    const { b } = bus();
    for (let i = 0; i < 100; i++) b.on('ping', `s${i}`, () => undefined);
    expect(() => b.on('ping', 'one-too-many', () => undefined)).toThrow(/100 subscribers/);
  });

  it('GatewayBus is such a bus over the gateway events', () => {
    const reports: HandlerErrorReport[] = [];
    const gatewayBus = new GatewayBus({ onHandlerError: (r) => reports.push(r) });
    gatewayBus.on('device.connection', 'broken', () => {
      throw new Error('x');
    });
    gatewayBus.emit('device.connection', { deviceId: 'esl-1', kind: 'esl', source: 'mqtt', connected: true, at: 1 });
    expect(reports.map(({ event, handler }) => ({ event, handler }))).toEqual([{ event: 'device.connection', handler: 'broken' }]);
  });
});
