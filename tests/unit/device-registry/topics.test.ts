import { describe, expect, it } from 'vitest';
import {
  DEVICE_CHANNELS,
  DEVICE_KINDS,
  commandTopic,
  deviceTopic,
  isDeviceKind,
  isValidDeviceId,
  parseDeviceTopic,
  publishTopicsOf,
} from '../../../edge/device-registry/topics.js';

describe('deviceTopic and parseDeviceTopic', () => {
  it('round-trip for every kind and channel', () => {
    for (const kind of DEVICE_KINDS) {
      for (const channel of [...DEVICE_CHANNELS[kind], 'cmd']) {
        const topic = deviceTopic('store-0042', kind, 'dev_1.a-b', channel);
        expect(topic).toBe(`store/store-0042/${kind}/dev_1.a-b/${channel}`);
        expect(parseDeviceTopic(topic)).toEqual({ storeId: 'store-0042', kind, deviceId: 'dev_1.a-b', channel });
      }
    }
  });

  it('commandTopic is the cmd channel', () => {
    expect(commandTopic('s1', 'esl', 'e1')).toBe('store/s1/esl/e1/cmd');
  });

  it.each([
    ['too few levels', 'store/s1/shelf/dev'],
    ['too many levels', 'store/s1/shelf/dev/weight/extra'],
    ['trailing slash', 'store/s1/shelf/dev/weight/'],
    ['leading slash', '/store/s1/shelf/dev/weight'],
    ['wrong root', 'shop/s1/shelf/dev/weight'],
    ['root case', 'Store/s1/shelf/dev/weight'],
    ['empty store', 'store//shelf/dev/weight'],
    ['unknown kind', 'store/s1/fridge/dev/weight'],
    ['kind case', 'store/s1/Shelf/dev/weight'],
    ['empty device', 'store/s1/shelf//weight'],
    ['wildcard device', 'store/s1/shelf/+/weight'],
    ['multi-level wildcard', 'store/s1/shelf/#'],
    ['device with a space', 'store/s1/shelf/de v/weight'],
    ['device starting with a dash', 'store/s1/shelf/-dev/weight'],
    ['empty channel', 'store/s1/shelf/dev/'],
    ['empty topic', ''],
    ['$SYS', '$SYS/broker/clients'],
  ])('rejects %s', (_name, topic) => {
    expect(parseDeviceTopic(topic)).toBeUndefined();
  });
});

describe('publishTopicsOf', () => {
  it('lists exactly the channels a kind publishes on', () => {
    expect(publishTopicsOf('s1', 'shelf', 'sh1')).toEqual([
      'store/s1/shelf/sh1/weight',
      'store/s1/shelf/sh1/status',
      'store/s1/shelf/sh1/ack',
    ]);
    expect(publishTopicsOf('s1', 'esl', 'e1')).toEqual(['store/s1/esl/e1/status', 'store/s1/esl/e1/ack']);
    expect(publishTopicsOf('s1', 'kiosk', 'k1')).toEqual(['store/s1/kiosk/k1/event', 'store/s1/kiosk/k1/status', 'store/s1/kiosk/k1/ack']);
  });

  it('never includes the command topic', () => {
    for (const kind of DEVICE_KINDS) expect(publishTopicsOf('s1', kind, 'd')).not.toContain(commandTopic('s1', kind, 'd'));
  });
});

describe('isDeviceKind', () => {
  it('knows exactly shelf, esl and kiosk', () => {
    expect(DEVICE_KINDS.every(isDeviceKind)).toBe(true);
    expect(['Shelf', 'fridge', '', 'toString', '__proto__'].some(isDeviceKind)).toBe(false);
  });
});

describe('isValidDeviceId', () => {
  it.each([['a'], ['A'], ['0'], ['shelf-01'], ['esl_0001'], ['kiosk.2'], ['a'.repeat(64)], ['9-._x']])('accepts %j', (id) => {
    expect(isValidDeviceId(id)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['65 characters', 'a'.repeat(65)],
    ['leading dash', '-a'],
    ['leading dot', '.a'],
    ['leading underscore', '_a'],
    ['slash', 'a/b'],
    ['plus', 'a+b'],
    ['hash', 'a#'],
    ['space', 'a b'],
    ['trailing newline', 'abc\n'],
    ['dollar', '$SYS'],
    ['non-ASCII letter', 'regal-ä'],
    ['colon', 'a:b'],
  ])('refuses %s', (_name, id) => {
    expect(isValidDeviceId(id)).toBe(false);
  });
});
