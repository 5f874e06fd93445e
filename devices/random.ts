/**
 * A seeded random source, so a simulated store replays the same shoppers for the same seed.
 * Everything in devices/ takes a `RandomSource` instead of calling Math.random.
 */

/** Uniform in [0, 1), like Math.random. */
export type RandomSource = () => number;

/** mulberry32: 32-bit state, tiny, fast and good enough for simulation (not for secrets). */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Normally distributed sample (Box–Muller). */
export function gaussian(random: RandomSource, mean = 0, stdDev = 1): number {
  // 1 - random() is in (0, 1], so the log never sees 0.
  const u1 = 1 - random();
  const u2 = random();
  return mean + stdDev * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** Integer uniform in [min, max], both inclusive. */
export function randomInt(random: RandomSource, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

/** Uniform in [min, max). */
export function randomBetween(random: RandomSource, min: number, max: number): number {
  return min + random() * (max - min);
}

export function pickOne<T>(random: RandomSource, items: readonly T[]): T {
  if (items.length === 0) throw new RangeError('pickOne: no items to pick from');
  return items[Math.floor(random() * items.length)] as T;
}

/** Picks an item with probability proportional to its weight; items of weight ≤ 0 are never picked. */
export function pickWeighted<T>(random: RandomSource, items: readonly T[], weightOf: (item: T) => number): T | undefined {
  let total = 0;
  for (const item of items) total += Math.max(0, weightOf(item));
  if (total <= 0) return undefined;
  let target = random() * total;
  for (const item of items) {
    const weight = Math.max(0, weightOf(item));
    if (weight <= 0) continue;
    target -= weight;
    if (target < 0) return item;
  }
  // Floating point leftovers: fall back to the last pickable item.
  return [...items].reverse().find((item) => weightOf(item) > 0);
}
