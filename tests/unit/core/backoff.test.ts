import { describe, expect, it } from 'vitest';
import { jitteredBackoffMs, type Backoff } from '../../../edge/core/backoff.js';
import { seededRandom } from '../../../devices/random.js';

const EQUAL_JITTER: Backoff = { baseMs: 500, maxMs: 30_000, factor: 2, jitter: 0.5 };

describe('jitteredBackoffMs', () => {
  it('grows the ceiling by the factor per attempt from baseMs, and stops at maxMs', () => {
    const ceilings = [0, 1, 2, 3, 4, 5, 6, 7, 60].map((attempt) => jitteredBackoffMs({ ...EQUAL_JITTER, jitter: 0 }, attempt, () => 0.3));
    expect(ceilings).toEqual([500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
    expect(
      [0, 1, 2, 3].map((attempt) => jitteredBackoffMs({ baseMs: 100, maxMs: 10_000, factor: 3, jitter: 0 }, attempt, () => 0)),
    ).toEqual([100, 300, 900, 2_700]);
  });

  it('draws between (1 - jitter) × ceiling and the ceiling', () => {
    expect(jitteredBackoffMs(EQUAL_JITTER, 2, () => 0)).toBe(1_000);
    expect(jitteredBackoffMs(EQUAL_JITTER, 2, () => 0.5)).toBe(1_500);
    expect(jitteredBackoffMs(EQUAL_JITTER, 2, () => 0.999_999)).toBe(2_000);
    expect(jitteredBackoffMs({ ...EQUAL_JITTER, jitter: 1 }, 2, () => 0.25)).toBe(500);
    expect(jitteredBackoffMs({ ...EQUAL_JITTER, jitter: 0.2 }, 2, () => 0)).toBe(1_600);
  });

  it('stays within its bounds for any draw, attempt and jitter (seeded)', () => {
    const random = seededRandom(25);
    for (let i = 0; i < 2_000; i++) {
      const attempt = Math.floor(random() * 40) - 2;
      const jitter = Math.round(random() * 10) / 10;
      const backoff: Backoff = { baseMs: 1 + Math.floor(random() * 2_000), maxMs: 60_000, factor: 2, jitter };
      const ceilingMs = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, attempt));
      const delayMs = jitteredBackoffMs(backoff, attempt, random);
      expect(Number.isInteger(delayMs)).toBe(true);
      expect(delayMs).toBeGreaterThanOrEqual(Math.floor(ceilingMs * (1 - jitter)));
      expect(delayMs).toBeLessThanOrEqual(Math.ceil(ceilingMs));
    }
  });

  it('spreads the delays of one attempt over the jitter range (no lockstep)', () => {
    const random = seededRandom(7);
    const delays = Array.from({ length: 1_000 }, () => jitteredBackoffMs(EQUAL_JITTER, 3, random));
    expect(Math.min(...delays)).toBeLessThan(2_100);
    expect(Math.max(...delays)).toBeGreaterThan(3_900);
    expect(new Set(delays).size).toBeGreaterThan(500);
  });

  it('gives the same delays for the same random numbers', () => {
    const run = () => {
      const random = seededRandom(42);
      return Array.from({ length: 20 }, (_, attempt) => jitteredBackoffMs(EQUAL_JITTER, attempt, random));
    };
    expect(run()).toEqual(run());
  });

  it('counts attempts below 0 as 0, clamps draws outside [0, 1], and stays finite for absurd attempts', () => {
    expect(jitteredBackoffMs(EQUAL_JITTER, -3, () => 0)).toBe(250);
    expect(jitteredBackoffMs(EQUAL_JITTER, 0, () => 7)).toBe(500);
    expect(jitteredBackoffMs(EQUAL_JITTER, 0, () => -1)).toBe(250);
    expect(jitteredBackoffMs(EQUAL_JITTER, 5_000, () => 1)).toBe(30_000);
    expect(jitteredBackoffMs({ ...EQUAL_JITTER, baseMs: 0 }, 5_000, () => 1)).toBe(0);
  });
});
