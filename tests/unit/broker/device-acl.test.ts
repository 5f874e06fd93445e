import { describe, expect, it } from 'vitest';
import { createDeviceSession, maySubscribe, publishKeyOf } from '../../../edge/broker/device-acl.js';

describe('createDeviceSession', () => {
  it('computes the publish topics of the device with their <kind>/<channel> keys, and its command topic', () => {
    const session = createDeviceSession('s1', 'shelf', 'sh1');
    expect(session.deviceId).toBe('sh1');
    expect(session.kind).toBe('shelf');
    expect([...session.publishKeys]).toEqual([
      ['store/s1/shelf/sh1/weight', 'shelf/weight'],
      ['store/s1/shelf/sh1/status', 'shelf/status'],
      ['store/s1/shelf/sh1/ack', 'shelf/ack'],
    ]);
    expect(session.commandTopic).toBe('store/s1/shelf/sh1/cmd');
  });
});

describe('publishKeyOf', () => {
  const kiosk = createDeviceSession('s1', 'kiosk', 'k1');

  it('allows the device own channels', () => {
    expect(publishKeyOf(kiosk, 'store/s1/kiosk/k1/event')).toBe('kiosk/event');
    expect(publishKeyOf(kiosk, 'store/s1/kiosk/k1/status')).toBe('kiosk/status');
  });

  it.each([
    ['its command topic', 'store/s1/kiosk/k1/cmd'],
    ['another device', 'store/s1/kiosk/k2/event'],
    ['another store', 'store/s2/kiosk/k1/event'],
    ['another kind', 'store/s1/shelf/k1/weight'],
    ["another kind's channel on its prefix", 'store/s1/kiosk/k1/weight'],
    ['a wildcard', 'store/s1/kiosk/+/event'],
    ['a prefix', 'store/s1/kiosk/k1'],
    ['a longer topic', 'store/s1/kiosk/k1/event/x'],
    ['different case', 'store/s1/kiosk/K1/event'],
    ['$SYS', '$SYS/broker'],
  ])('refuses %s', (_name, topic) => {
    expect(publishKeyOf(kiosk, topic)).toBeUndefined();
  });
});

describe('maySubscribe', () => {
  const esl = createDeviceSession('s1', 'esl', 'e1');

  it('allows exactly its own command topic', () => {
    expect(maySubscribe(esl, 'store/s1/esl/e1/cmd')).toBe(true);
  });

  it.each([
    'store/s1/esl/e2/cmd',
    'store/s1/esl/+/cmd',
    'store/s1/esl/e1/#',
    'store/s1/#',
    '#',
    '+/+/+/+/+',
    '$SYS/#',
    'store/s1/esl/e1/status',
    'store/s1/esl/e1/cmd/',
  ])('refuses %j', (filter) => {
    expect(maySubscribe(esl, filter)).toBe(false);
  });
});
