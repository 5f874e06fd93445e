import { describe, expect, expectTypeOf, it } from 'vitest';
import { DeviceMessageDecoder } from '../../../edge/device-registry/decoder.js';
import type {
  DeviceAck,
  EslCommand,
  EslStatus,
  KioskEvent,
  KioskStatus,
  ShelfStatus,
  ShelfWeight,
} from '../../../edge/device-registry/messages.js';

const decoder = new DeviceMessageDecoder();
const TS = 1_764_000_000_000;

const decode = (key: string, payload: unknown) =>
  decoder.decode(key, 'dev-1', Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)), 42);

type Case = { key: string; valid: Record<string, unknown>[]; invalid: Array<[string, Record<string, unknown>]> };

const CASES: Case[] = [
  {
    key: 'shelf/weight',
    valid: [
      { facing: 3, weightG: 2841.5, ts: TS },
      { facing: 1, weightG: -12, ts: 0 },
      { facing: 64, weightG: 1_000_000, ts: TS },
    ],
    invalid: [
      ['missing weightG', { facing: 3, ts: TS }],
      ['facing 0', { facing: 0, weightG: 1, ts: TS }],
      ['facing 65', { facing: 65, weightG: 1, ts: TS }],
      ['fractional facing', { facing: 1.5, weightG: 1, ts: TS }],
      ['weight as string', { facing: 1, weightG: '12', ts: TS }],
      ['weight too large', { facing: 1, weightG: 1_000_001, ts: TS }],
      ['negative ts', { facing: 1, weightG: 1, ts: -1 }],
      ['unknown field', { facing: 1, weightG: 1, ts: TS, extra: 1 }],
    ],
  },
  {
    key: 'shelf/status',
    valid: [{ ts: TS }, { firmware: '1.2.3', tempC: 21.5, faults: ['cell-3'], ts: TS }],
    invalid: [
      ['missing ts', { firmware: '1' }],
      ['too hot', { tempC: 101, ts: TS }],
      ['faults not strings', { faults: [1], ts: TS }],
      ['unknown field', { ts: TS, uptime: 5 }],
    ],
  },
  {
    key: 'esl/status',
    valid: [
      { batteryMv: 2900, displayedPriceCents: 199, ts: TS },
      { batteryMv: 0, displayedPriceCents: null, sku: 'x', firmware: 'f', rssiDbm: -70, ts: TS },
    ],
    invalid: [
      ['missing displayedPriceCents', { batteryMv: 2900, ts: TS }],
      ['price as float', { batteryMv: 2900, displayedPriceCents: 1.99, ts: TS }],
      ['positive rssi', { batteryMv: 2900, displayedPriceCents: 1, rssiDbm: 3, ts: TS }],
      ['empty sku', { batteryMv: 2900, displayedPriceCents: 1, sku: '', ts: TS }],
    ],
  },
  {
    key: 'esl/ack',
    valid: [
      { cmdId: 'c1', ok: true, ts: TS },
      { cmdId: 'c1', ok: false, error: 'no display', displayedPriceCents: 5, ts: TS },
    ],
    invalid: [
      ['ok as string', { cmdId: 'c1', ok: 'true', ts: TS }],
      ['empty cmdId', { cmdId: '', ok: true, ts: TS }],
      ['unknown field', { cmdId: 'c1', ok: true, ts: TS, x: 1 }],
    ],
  },
  {
    key: 'kiosk/event',
    valid: [
      { type: 'basket-open', basketId: 'b1', ts: TS },
      { type: 'item-scanned', basketId: 'b1', sku: '4000000000017', qty: 2, priceCents: 189, ts: TS },
      { type: 'weight-mismatch', basketId: 'b1', expectedWeightG: 1040, measuredWeightG: 0, ts: TS },
      { type: 'assist-requested', reason: 'age check', ts: TS },
      { type: 'payment-succeeded', basketId: 'b1', ts: TS },
    ],
    invalid: [
      ['item-scanned without sku', { type: 'item-scanned', basketId: 'b1', qty: 1, ts: TS }],
      ['item-scanned without qty', { type: 'item-scanned', basketId: 'b1', sku: 's', ts: TS }],
      ['item-scanned with qty 0', { type: 'item-scanned', basketId: 'b1', sku: 's', qty: 0, ts: TS }],
      ['weight-mismatch without measured weight', { type: 'weight-mismatch', basketId: 'b1', expectedWeightG: 1, ts: TS }],
      ['unknown type', { type: 'refund', ts: TS }],
      ['unknown field', { type: 'basket-open', ts: TS, cashier: 'x' }],
    ],
  },
  {
    key: 'kiosk/status',
    valid: [
      { state: 'idle', ts: TS },
      { state: 'out-of-service', firmware: '2', ts: TS },
    ],
    invalid: [
      ['unknown state', { state: 'broken', ts: TS }],
      ['missing state', { ts: TS }],
    ],
  },
];

describe('DeviceMessageDecoder', () => {
  for (const { key, valid, invalid } of CASES) {
    describe(key, () => {
      it.each(valid.map((payload) => [JSON.stringify(payload), payload] as const))('accepts %s', (_name, payload) => {
        expect(decode(key, payload)).toEqual({ ok: true, message: { key, deviceId: 'dev-1', payload, receivedAt: 42 } });
      });

      it.each(invalid)('refuses %s as schema', (_name, payload) => {
        const result = decode(key, payload);
        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.reason).toBe('schema');
      });
    });
  }

  it('names the first problem in the detail', () => {
    expect(decode('shelf/weight', { facing: 1, weightG: 1, ts: TS, extra: 1 })).toEqual({
      ok: false,
      reason: 'schema',
      detail: '/ must NOT have additional properties',
    });
    expect(decode('shelf/weight', { facing: 0, weightG: 1, ts: TS })).toEqual({
      ok: false,
      reason: 'schema',
      detail: '/facing must be >= 1',
    });
    expect(decode('kiosk/event', { type: 'item-scanned', basketId: 'b1', qty: 1, ts: TS })).toEqual({
      ok: false,
      reason: 'schema',
      detail: "/ must have required property 'sku'",
    });
  });

  it.each([['not json'], ['{"facing": 1,'], [''], ['\u0000']])('bad JSON %j → bad-json', (text) => {
    const result = decode('shelf/weight', text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toBe('bad-json');
  });

  it.each([['null'], ['[]'], ['42'], ['"text"']])('JSON that is not an object (%s) → schema', (text) => {
    const result = decode('shelf/weight', text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toBe('schema');
  });

  it.each(['shelf/cmd', 'esl/cmd', 'kiosk/weight', 'fridge/status', '', '__proto__', 'constructor', 'toString'])(
    'unknown key %j → unknown-channel',
    (key) => {
      expect(decode(key, { ts: TS })).toEqual({ ok: false, reason: 'unknown-channel', detail: `no channel ${key}` });
    },
  );

  it('the unknown key is checked before parsing', () => {
    expect(decode('nope/nope', 'not json')).toMatchObject({ ok: false, reason: 'unknown-channel' });
  });

  it('__proto__ in a payload is refused and pollutes nothing', () => {
    const result = decode('shelf/status', '{"ts": 1, "__proto__": {"polluted": true}}');
    expect(result).toMatchObject({ ok: false, reason: 'schema' });
    const nested = decode('shelf/status', '{"ts": 1, "faults": ["a"], "constructor": {"prototype": {"polluted": true}}}');
    expect(nested).toMatchObject({ ok: false, reason: 'schema' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
  });

  it('decodes UTF-8 payloads', () => {
    const result = decode('kiosk/event', { type: 'assist-requested', reason: 'Größe prüfen ✓', ts: TS });
    expect(result.ok && result.message.key === 'kiosk/event' && result.message.payload.reason).toBe('Größe prüfen ✓');
  });
});

describe('payload types derived from the schemas (checked by tsc)', () => {
  it('required fields are required, optional ones optional, null and enums where the contract has them', () => {
    expectTypeOf<ShelfWeight>().toEqualTypeOf<{ facing: number; weightG: number; ts: number }>();
    expectTypeOf<ShelfStatus>().toEqualTypeOf<{ firmware?: string; tempC?: number; faults?: string[]; ts: number }>();
    expectTypeOf<EslStatus['displayedPriceCents']>().toEqualTypeOf<number | null>();
    expectTypeOf<DeviceAck>().toEqualTypeOf<{ cmdId: string; ok: boolean; error?: string; displayedPriceCents?: number; ts: number }>();
    expectTypeOf<KioskEvent['type']>().toEqualTypeOf<
      'basket-open' | 'item-scanned' | 'weight-mismatch' | 'assist-requested' | 'payment-succeeded' | 'payment-failed' | 'basket-closed'
    >();
    expectTypeOf<KioskEvent['qty']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<KioskStatus['state']>().toEqualTypeOf<'idle' | 'in-use' | 'assist' | 'out-of-service'>();
    expectTypeOf<EslCommand['type']>().toEqualTypeOf<'set-price' | 'flash'>();
  });
});
