import type { ShelfWeight } from './messages.js';

/**
 * Reads a `shelf/weight` payload written exactly as the contract shows it — `{"facing":3,"weightG":2841.5,"ts":…}`,
 * keys in that order, no spaces, plain decimal numbers — straight from the bytes, without JSON.parse. This is the
 * most frequent message by far. Anything else (other order, spaces, exponents, out-of-range values, extra fields)
 * returns undefined and goes the general way: JSON.parse and the compiled schema, which decide. So this accepts
 * only payloads the schema accepts, with the same values (tests compare both on generated payloads).
 */
const PREFIX = Buffer.from('{"facing":');
const WEIGHT = Buffer.from(',"weightG":');
const TS = Buffer.from(',"ts":');
const MAX_TS = 8_640_000_000_000_000;

const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const MINUS = 0x2d;
const DOT = 0x2e;
const CLOSE = 0x7d;

function startsWithAt(payload: Buffer, at: number, expected: Buffer): boolean {
  if (payload.length < at + expected.length) return false;
  for (let i = 0; i < expected.length; i++) if (payload[at + i] !== expected[i]) return false;
  return true;
}

/** End of an unsigned run of digits starting at `at` (at itself when there is none). */
function digitsEnd(payload: Buffer, at: number): number {
  let i = at;
  while (i < payload.length && (payload[i] as number) >= DIGIT_0 && (payload[i] as number) <= DIGIT_9) i++;
  return i;
}

/** An integer without sign or leading zeros, at most 16 digits (exact in a double). */
function readInteger(payload: Buffer, at: number): { value: number; end: number } | undefined {
  const end = digitsEnd(payload, at);
  const length = end - at;
  if (length === 0 || length > 16 || (length > 1 && payload[at] === DIGIT_0)) return undefined;
  let value = 0;
  for (let i = at; i < end; i++) value = value * 10 + ((payload[i] as number) - DIGIT_0);
  return { value, end };
}

export function readShelfWeight(payload: Buffer): ShelfWeight | undefined {
  if (!startsWithAt(payload, 0, PREFIX)) return undefined;
  const facing = readInteger(payload, PREFIX.length);
  if (!facing || facing.value < 1 || facing.value > 64 || !startsWithAt(payload, facing.end, WEIGHT)) return undefined;

  // weightG: -?digits(.digits)? — converted by Number() so the value is exactly what JSON.parse would give
  const weightStart = facing.end + WEIGHT.length;
  let i = weightStart;
  if (payload[i] === MINUS) i++;
  const intEnd = digitsEnd(payload, i);
  if (intEnd === i || (intEnd - i > 1 && payload[i] === DIGIT_0)) return undefined;
  let weightEnd = intEnd;
  if (payload[intEnd] === DOT) {
    weightEnd = digitsEnd(payload, intEnd + 1);
    if (weightEnd === intEnd + 1) return undefined;
  }
  if (weightEnd - weightStart > 24) return undefined;
  const weightG = Number(payload.toString('latin1', weightStart, weightEnd));
  if (!(weightG >= -100_000 && weightG <= 1_000_000)) return undefined;

  if (!startsWithAt(payload, weightEnd, TS)) return undefined;
  const ts = readInteger(payload, weightEnd + TS.length);
  if (!ts || ts.value > MAX_TS || ts.end !== payload.length - 1 || payload[ts.end] !== CLOSE) return undefined;
  return { facing: facing.value, weightG, ts: ts.value };
}
