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

/** Exact powers of ten: a mantissa below 2^53 divided by one of them is the correctly rounded decimal (see weightG). */
const POW10 = Array.from({ length: 16 }, (_, k) => 10 ** k);

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

/**
 * An integer without sign or leading zeros, at most 16 digits (exact in a double), from `at` to `end` (a run of
 * digits found by digitsEnd); -1 when it is not one. Returns a number, not an object: this runs for every reading.
 */
function integerIn(payload: Buffer, at: number, end: number): number {
  const length = end - at;
  if (length === 0 || length > 16 || (length > 1 && payload[at] === DIGIT_0)) return -1;
  let value = 0;
  for (let i = at; i < end; i++) value = value * 10 + ((payload[i] as number) - DIGIT_0);
  return value;
}

export function readShelfWeight(payload: Buffer): ShelfWeight | undefined {
  if (!startsWithAt(payload, 0, PREFIX)) return undefined;
  const facingEnd = digitsEnd(payload, PREFIX.length);
  const facing = integerIn(payload, PREFIX.length, facingEnd);
  if (facing < 1 || facing > 64 || !startsWithAt(payload, facingEnd, WEIGHT)) return undefined;

  // weightG: -?digits(.digits)?, the value JSON.parse would give
  const weightStart = facingEnd + WEIGHT.length;
  let i = weightStart;
  const negative = payload[i] === MINUS;
  if (negative) i++;
  const intEnd = digitsEnd(payload, i);
  if (intEnd === i || (intEnd - i > 1 && payload[i] === DIGIT_0)) return undefined;
  let weightEnd = intEnd;
  if (payload[intEnd] === DOT) {
    weightEnd = digitsEnd(payload, intEnd + 1);
    if (weightEnd === intEnd + 1) return undefined;
  }
  if (weightEnd - weightStart > 24) return undefined;
  const fractionDigits = weightEnd === intEnd ? 0 : weightEnd - intEnd - 1;
  let weightG: number;
  if (intEnd - i + fractionDigits <= 15) {
    // at most 15 digits: the digits as an integer (below 2^53) and 10^fractionDigits are exact doubles, and IEEE
    // division rounds their exact quotient — the decimal itself — correctly, as JSON.parse does (Clinger's fast path)
    let mantissa = 0;
    for (let d = i; d < weightEnd; d++) if (d !== intEnd) mantissa = mantissa * 10 + ((payload[d] as number) - DIGIT_0);
    const magnitude = mantissa / (POW10[fractionDigits] as number);
    weightG = negative ? -magnitude : magnitude;
  } else {
    weightG = Number(payload.toString('latin1', weightStart, weightEnd));
  }
  if (!(weightG >= -100_000 && weightG <= 1_000_000)) return undefined;

  if (!startsWithAt(payload, weightEnd, TS)) return undefined;
  const tsStart = weightEnd + TS.length;
  const tsEnd = digitsEnd(payload, tsStart);
  const ts = integerIn(payload, tsStart, tsEnd);
  if (ts < 0 || ts > MAX_TS || tsEnd !== payload.length - 1 || payload[tsEnd] !== CLOSE) return undefined;
  return { facing, weightG, ts };
}
