import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../devices/random.js';
import { DeviceMessageDecoder } from '../../../edge/device-registry/decoder.js';
import { shelfWeightSchema } from '../../../edge/device-registry/schemas.js';
import { readShelfWeight } from '../../../edge/device-registry/shelf-weight-fast-path.js';

const validate = new Ajv({ strict: true }).compile(shelfWeightSchema);

/** What the general path (JSON.parse + the schema) makes of a payload: the value, or undefined when it refuses. */
function generalPath(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return validate(value) ? value : undefined;
}

const random = seededRandom(20261124);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

/** Numbers around every boundary of the schema, in the forms JSON.stringify writes and some it does not. */
function numberText(kind: 'facing' | 'weight' | 'ts'): string {
  const interesting =
    kind === 'facing'
      ? ['0', '1', '2', '63', '64', '65', '-1', '01', '1.0', '1e1', '3.5', '999999999999999999']
      : kind === 'weight'
        ? [
            '0',
            '-0',
            '2841.5',
            '-100000',
            '-100000.01',
            '1000000',
            '1000000.5',
            '0.1',
            '1e3',
            '1E-2',
            '01',
            '-',
            '1.',
            '.5',
            '123456789.123456789123',
            '-3',
            String(random() * 1e6),
            String(-random() * 1e5),
          ]
        : [
            '0',
            '1764000000000',
            '8640000000000000',
            '8640000000000001',
            '99999999999999999',
            '1.5',
            '-1',
            '017',
            String(Math.floor(random() * 1e13)),
          ];
  return pick(interesting);
}

function generatedPayload(): string {
  const facing = numberText('facing');
  const weight = numberText('weight');
  const ts = numberText('ts');
  const canonical = `{"facing":${facing},"weightG":${weight},"ts":${ts}}`;
  const variants = [
    canonical,
    canonical,
    canonical,
    `{"weightG":${weight},"facing":${facing},"ts":${ts}}`,
    `{ "facing": ${facing}, "weightG": ${weight}, "ts": ${ts} }`,
    `{"facing":${facing},"weightG":${weight},"ts":${ts},"extra":1}`,
    `{"facing":${facing},"weightG":${weight}}`,
    `${canonical}\n`,
    `\uFEFF${canonical}`,
    canonical.slice(0, Math.floor(random() * canonical.length)),
    `{"facing":"${facing}","weightG":${weight},"ts":${ts}}`,
  ];
  return pick(variants);
}

describe('readShelfWeight (the shelf/weight fast path)', () => {
  it('reads what simulators and the contract send', () => {
    expect(readShelfWeight(Buffer.from(JSON.stringify({ facing: 3, weightG: 2841.5, ts: 1764000000000 })))).toEqual({
      facing: 3,
      weightG: 2841.5,
      ts: 1764000000000,
    });
    expect(readShelfWeight(Buffer.from('{"facing":64,"weightG":-12,"ts":0}'))).toEqual({ facing: 64, weightG: -12, ts: 0 });
  });

  it('reads decimals of up to 15 digits (computed without a string) as exactly the number JSON.parse gives', () => {
    for (let n = 0; n < 20_000; n++) {
      const digits = 1 + Math.floor(random() * 15);
      const fraction = Math.floor(random() * Math.min(digits, 7));
      const mantissa = String(Math.floor(random() * 10 ** digits));
      const whole = mantissa.slice(0, Math.max(1, mantissa.length - fraction)).replace(/^0+(?=\d)/, '');
      const text = (random() < 0.2 ? '-' : '') + whole + (fraction > 0 ? `.${mantissa.slice(-fraction).padStart(fraction, '0')}` : '');
      const expected = JSON.parse(text) as number;
      if (expected < -100_000 || expected > 1_000_000) continue;
      const read = readShelfWeight(Buffer.from(`{"facing":1,"weightG":${text},"ts":1}`));
      expect(Object.is(read?.weightG, expected), text).toBe(true);
    }
  });

  it('leaves everything else to the general path', () => {
    for (const text of [
      '{"weightG":1,"facing":1,"ts":1}',
      '{ "facing":1,"weightG":1,"ts":1}',
      '{"facing":1,"weightG":1e3,"ts":1}',
      '{"facing":1,"weightG":1,"ts":1} ',
      '{"facing":1,"weightG":1,"ts":1,"x":1}',
    ]) {
      expect(readShelfWeight(Buffer.from(text)), text).toBeUndefined();
    }
  });

  it('on 20,000 generated payloads accepts only what the schema accepts, with the same values', () => {
    let fastAccepted = 0;
    let generalAccepted = 0;
    for (let n = 0; n < 20_000; n++) {
      const text = generatedPayload();
      const fast = readShelfWeight(Buffer.from(text, 'utf8'));
      const general = generalPath(text);
      if (general !== undefined) generalAccepted++;
      if (fast === undefined) continue;
      fastAccepted++;
      expect(general, text).toBeDefined();
      expect(fast, text).toEqual(general);
      expect(Object.is((fast as { weightG: number }).weightG, (general as { weightG: number }).weightG), text).toBe(true);
    }
    // the generator must exercise both sides, or this test proves nothing
    expect(fastAccepted).toBeGreaterThan(300);
    expect(generalAccepted).toBeGreaterThan(fastAccepted);
  });

  it('the decoder gives the same message either way', () => {
    const decoder = new DeviceMessageDecoder();
    const fast = decoder.decode('shelf/weight', 'shelf-1', Buffer.from('{"facing":2,"weightG":103.25,"ts":5}'), 9);
    const general = decoder.decode('shelf/weight', 'shelf-1', Buffer.from('{ "ts": 5, "facing": 2, "weightG": 103.25 }'), 9);
    expect(fast).toEqual({
      ok: true,
      message: { key: 'shelf/weight', deviceId: 'shelf-1', payload: { facing: 2, weightG: 103.25, ts: 5 }, receivedAt: 9 },
    });
    expect(general).toEqual(fast);
    expect(decoder.decode('shelf/weight', 'shelf-1', Buffer.from('{"facing":65,"weightG":1,"ts":5}'), 9)).toMatchObject({
      ok: false,
      reason: 'schema',
    });
  });
});
