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

/** The byte at `at`, or -1 past the end (no out-of-bounds read: V8 handles those off its fast path). */
function byteAt(payload: Buffer, at: number): number {
  return at < payload.length ? (payload[at] as number) : -1;
}

function isDigit(byte: number): boolean {
  return byte >= DIGIT_0 && byte <= DIGIT_9;
}

/**
 * One pass over the bytes: each number is read and checked as its digits go by (no second walk to convert them), and
 * returns numbers, not objects — this runs for every reading (a third less CPU than two walks per number).
 */
export function readShelfWeight(payload: Buffer): ShelfWeight | undefined {
  if (!startsWithAt(payload, 0, PREFIX)) return undefined;

  // facing: 1..64, no leading zero
  let i = PREFIX.length;
  let byte = byteAt(payload, i);
  if (byte === DIGIT_0) return undefined;
  let facing = 0;
  while (isDigit(byte)) {
    facing = facing * 10 + (byte - DIGIT_0);
    if (facing > 64) return undefined;
    byte = byteAt(payload, ++i);
  }
  if (facing < 1 || !startsWithAt(payload, i, WEIGHT)) return undefined;

  // weightG: -?digits(.digits)?, the value JSON.parse would give
  const weightStart = i + WEIGHT.length;
  i = weightStart;
  const negative = payload[i] === MINUS;
  if (negative) i++;
  const intStart = i;
  let mantissa = 0;
  byte = byteAt(payload, i);
  while (isDigit(byte)) {
    mantissa = mantissa * 10 + (byte - DIGIT_0);
    byte = byteAt(payload, ++i);
  }
  const intDigits = i - intStart;
  if (intDigits === 0 || (intDigits > 1 && payload[intStart] === DIGIT_0)) return undefined;
  let fractionDigits = 0;
  if (byte === DOT) {
    byte = byteAt(payload, ++i);
    while (isDigit(byte)) {
      mantissa = mantissa * 10 + (byte - DIGIT_0);
      fractionDigits++;
      byte = byteAt(payload, ++i);
    }
    if (fractionDigits === 0) return undefined;
  }
  const weightEnd = i;
  if (weightEnd - weightStart > 24) return undefined;
  let weightG: number;
  if (intDigits + fractionDigits <= 15) {
    // at most 15 digits: the digits as an integer (below 2^53) and 10^fractionDigits are exact doubles, and IEEE
    // division rounds their exact quotient — the decimal itself — correctly, as JSON.parse does (Clinger's fast path)
    const magnitude = mantissa / (POW10[fractionDigits] as number);
    weightG = negative ? -magnitude : magnitude;
  } else {
    weightG = Number(payload.toString('latin1', weightStart, weightEnd));
  }
  if (!(weightG >= -100_000 && weightG <= 1_000_000)) return undefined;

  // ts: 0..MAX_TS, at most 16 digits (exact in a double), no leading zero, then the closing brace and nothing more
  if (!startsWithAt(payload, weightEnd, TS)) return undefined;
  const tsStart = weightEnd + TS.length;
  i = tsStart;
  let ts = 0;
  byte = byteAt(payload, i);
  while (isDigit(byte)) {
    ts = ts * 10 + (byte - DIGIT_0);
    byte = byteAt(payload, ++i);
  }
  const tsDigits = i - tsStart;
  if (tsDigits === 0 || tsDigits > 16 || (tsDigits > 1 && payload[tsStart] === DIGIT_0)) return undefined;
  if (ts > MAX_TS || byte !== CLOSE || i !== payload.length - 1) return undefined;
  return { facing, weightG, ts };
}
