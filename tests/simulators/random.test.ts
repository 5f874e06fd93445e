import { describe, expect, it } from 'vitest';
import { gaussian, pickWeighted, randomInt, seededRandom } from '../../devices/random.js';

describe('seededRandom', () => {
  it('replays the same sequence for the same seed and another for another seed', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const c = seededRandom(43);
    const first = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(first);
    expect(Array.from({ length: 5 }, c)).not.toEqual(first);
  });

  it('stays in [0, 1) with a roughly uniform mean', () => {
    const random = seededRandom(7);
    const samples = Array.from({ length: 10_000 }, random);
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...samples)).toBeLessThan(1);
    expect(samples.reduce((sum, x) => sum + x, 0) / samples.length).toBeCloseTo(0.5, 1);
  });
});

describe('gaussian', () => {
  it('has the requested mean and standard deviation', () => {
    const random = seededRandom(1);
    const samples = Array.from({ length: 20_000 }, () => gaussian(random, 10, 2));
    const mean = samples.reduce((sum, x) => sum + x, 0) / samples.length;
    const variance = samples.reduce((sum, x) => sum + (x - mean) ** 2, 0) / samples.length;
    expect(mean).toBeCloseTo(10, 1);
    expect(Math.sqrt(variance)).toBeCloseTo(2, 1);
  });
});

describe('randomInt and pickWeighted', () => {
  it('randomInt covers both ends of the range', () => {
    const random = seededRandom(3);
    const seen = new Set(Array.from({ length: 500 }, () => randomInt(random, 1, 3)));
    expect([...seen].sort()).toEqual([1, 2, 3]);
  });

  it('picks in proportion to weight and never picks weight 0', () => {
    const random = seededRandom(5);
    const counts = { a: 0, b: 0, c: 0 };
    const weights = { a: 3, b: 1, c: 0 };
    for (let i = 0; i < 8_000; i += 1) {
      const key = pickWeighted(random, ['a', 'b', 'c'] as const, (item) => weights[item]);
      if (key) counts[key] += 1;
    }
    expect(counts.c).toBe(0);
    expect(counts.a / counts.b).toBeGreaterThan(2.6);
    expect(counts.a / counts.b).toBeLessThan(3.4);
    expect(pickWeighted(random, ['x'], () => 0)).toBeUndefined();
  });
});
