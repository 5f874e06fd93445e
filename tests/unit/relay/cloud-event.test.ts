import { describe, expect, it } from 'vitest';
import { cloudEventFactory, cloudEventProblems, cloudEventType, relayTypeOf, withHistorical } from '../../../edge/relay/cloud-event.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('CloudEvents envelope', () => {
  const make = cloudEventFactory({ storeId: 'store-0001', newId: () => crypto.randomUUID(), now: () => Date.UTC(2026, 11, 1, 4, 30) });

  it('builds a CloudEvents 1.0 structured JSON event with every required attribute', () => {
    const event = make({ type: 'store.alert.changed', subject: 'alert/a1', data: { units: 2 } });
    expect(event).toEqual({
      specversion: '1.0',
      id: expect.stringMatching(UUID_V4) as string,
      source: '/stores/store-0001',
      type: 'store.alert.changed',
      time: '2026-12-01T04:30:00.000Z',
      subject: 'alert/a1',
      datacontenttype: 'application/json',
      data: { units: 2 },
    });
    expect(cloudEventProblems(JSON.parse(JSON.stringify(event)) as Record<string, unknown>)).toEqual([]);
  });

  it('withHistorical adds the historical extension attribute (Boolean true) and keeps the rest byte for byte', () => {
    const body = JSON.stringify(make({ type: 'store.kiosk.event', subject: 'kiosk/k1', data: { a: [1, { historical: false }] } }));
    const flagged = withHistorical(body);
    expect(JSON.parse(flagged)).toEqual({ historical: true, ...JSON.parse(body) });
    expect(flagged.endsWith(body.slice(1))).toBe(true);
    expect(cloudEventProblems(JSON.parse(flagged) as Record<string, unknown>)).toEqual([]);
  });

  it("prefixes every type with the configured reverse-DNS name; '' keeps the relay type; the relay type is recovered", () => {
    const prefixed = cloudEventFactory({ storeId: 's', typePrefix: 'com.smartstore', newId: () => 'x', now: () => 0 });
    expect(prefixed({ type: 'store.kiosk.event', data: null }).type).toBe('com.smartstore.store.kiosk.event');
    expect(cloudEventType('', 'store.kiosk.event')).toBe('store.kiosk.event');
    expect(relayTypeOf('com.smartstore', 'com.smartstore.store.kiosk.event')).toBe('store.kiosk.event');
    // written before the prefix was configured, or by another prefix: filed as it is
    expect(relayTypeOf('com.smartstore', 'store.kiosk.event')).toBe('store.kiosk.event');
    expect(relayTypeOf('com.smartstore', 'com.smartstorex.a')).toBe('com.smartstorex.a');
    expect(relayTypeOf('', 'com.smartstore.store.kiosk.event')).toBe('com.smartstore.store.kiosk.event');
  });

  it('gives every event its own id (HQ deduplicates by it)', () => {
    const ids = new Set(Array.from({ length: 1_000 }, () => make({ type: 't', data: null }).id));
    expect(ids.size).toBe(1_000);
  });

  it('leaves subject out when there is none', () => {
    const event = make({ type: 'store.relay.dropped', data: {} });
    expect('subject' in event).toBe(false);
    expect(cloudEventProblems(event)).toEqual([]);
  });

  it('the validator finds what breaks the spec (so it can fail)', () => {
    expect(cloudEventProblems({ specversion: '0.3', id: '', source: '/s', type: 't', time: 'yesterday', Data: 1 })).toEqual([
      'id must be a non-empty string',
      "specversion must be '1.0'",
      'time must be RFC 3339',
      'attribute name Data is not [a-z0-9]+',
    ]);
  });
});
