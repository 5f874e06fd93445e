/**
 * A seeded day (or days) of a store's shelves, minute by minute, with what really happened on each facing: shoppers
 * taking units at rush hours, staff rounds refilling low facings, facings left empty until someone notices. The replay
 * harness feeds it to the gateway's pipelines and scores the detectors against its ground truth.
 *
 * Deterministic: the same seed gives the same store and the same day, event for event.
 */

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/** Shoppers per hour of the day relative to an average open hour: closed at night, lunch and after-work rushes. */
export const STORE_TRAFFIC_BY_HOUR: readonly number[] = [
  0, 0, 0, 0, 0, 0, 0, 0.6, 0.9, 0.8, 0.8, 1.2, 2.2, 1.8, 0.9, 0.8, 1.0, 1.9, 2.1, 1.5, 0.9, 0.5, 0, 0,
];

export type ScenarioFacing = {
  shelfId: string;
  facing: number;
  sku: string;
  capacityUnits: number;
  /** units per average open hour */
  baseRatePerHour: number;
};

export type ScenarioOptions = {
  seed: number;
  facings: number;
  days: number;
  /** midnight (store time) of the first day */
  startAt: number;
  /** hours of day of the staff rounds; a round refills every facing at or below `roundRefillBelow` of capacity */
  roundHours: readonly number[];
  roundRefillBelow: number;
  /** an empty facing is noticed and refilled after this long, between rounds */
  emptyNoticedAfterMs: number;
};

export const DEFAULT_SCENARIO: ScenarioOptions = {
  seed: 42,
  facings: 500,
  days: 1,
  startAt: Date.UTC(2026, 11, 7),
  roundHours: [7, 11, 15, 19],
  roundRefillBelow: 0.5,
  emptyNoticedAfterMs: 45 * MINUTE_MS,
};

/** What happened, in time order. `units` is the facing's true count after the event. */
export type ScenarioEvent =
  | { type: 'taken'; at: number; facing: ScenarioFacing; qty: number; units: number }
  | { type: 'restocked'; at: number; facing: ScenarioFacing; units: number }
  | { type: 'ran-empty'; at: number; facing: ScenarioFacing };

/** mulberry32: a small, fast, seeded generator (public domain), good enough for a simulation. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Poisson-distributed count with mean `mean` (Knuth; the means here are small: a minute of one facing). */
function poisson(mean: number, random: () => number): number {
  const limit = Math.exp(-mean);
  let k = 0;
  let p = random();
  while (p > limit && k < 50) {
    k++;
    p *= random();
  }
  return k;
}

export function scenarioFacings(options: Pick<ScenarioOptions, 'seed' | 'facings'>): ScenarioFacing[] {
  const random = seededRandom(options.seed);
  return Array.from({ length: options.facings }, (_, i) => {
    // log-normal pace: most facings sell a few an hour, a few sell fast (drinks, bread), some barely move
    const pace = Math.exp(Math.log(2.5) + 0.9 * gaussian(random));
    return {
      shelfId: `shelf-${String(Math.floor(i / 6) + 1).padStart(3, '0')}`,
      facing: (i % 6) + 1,
      sku: `40${String(1_000_000 + i).padStart(11, '0')}`,
      capacityUnits: 12 + Math.floor(random() * 29),
      baseRatePerHour: Math.min(30, pace),
    };
  });
}

function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** The scenario's events minute by minute, facing by facing, in time order; facings start full at midnight. */
export function* scenarioEvents(options: ScenarioOptions, facings: readonly ScenarioFacing[]): Generator<ScenarioEvent> {
  const random = seededRandom(options.seed ^ 0x5eed);
  const units = facings.map((f) => f.capacityUnits);
  const emptySince = facings.map(() => -1);
  const minutes = options.days * 24 * 60;
  for (let minute = 0; minute < minutes; minute++) {
    const at = options.startAt + minute * MINUTE_MS;
    const hour = Math.floor((minute % (24 * 60)) / 60);
    const round = minute % 60 === 0 && options.roundHours.includes(hour);
    const traffic = STORE_TRAFFIC_BY_HOUR[hour] as number;
    for (let i = 0; i < facings.length; i++) {
      const facing = facings[i] as ScenarioFacing;
      const had = units[i] as number;
      const noticed = had === 0 && at - (emptySince[i] as number) >= options.emptyNoticedAfterMs;
      if ((round && had <= facing.capacityUnits * options.roundRefillBelow) || noticed) {
        units[i] = facing.capacityUnits;
        emptySince[i] = -1;
        yield { type: 'restocked', at, facing, units: facing.capacityUnits };
        continue;
      }
      if (had === 0 || traffic === 0) continue;
      const shoppers = poisson((facing.baseRatePerHour * traffic) / 60, random);
      if (shoppers === 0) continue;
      let qty = 0;
      // most take one; some two or three; now and then one clears a good part of the facing
      for (let s = 0; s < shoppers; s++) {
        const r = random();
        qty += r < 0.85 ? 1 : r < 0.995 ? 2 + Math.floor(random() * 2) : 6 + Math.floor(random() * 5);
      }
      qty = Math.min(qty, had);
      units[i] = had - qty;
      yield { type: 'taken', at: at + Math.floor(random() * MINUTE_MS), facing, qty, units: had - qty };
      if (units[i] === 0) {
        emptySince[i] = at;
        yield { type: 'ran-empty', at: at + MINUTE_MS - 1, facing };
      }
    }
  }
}

export { HOUR_MS as SCENARIO_HOUR_MS, MINUTE_MS as SCENARIO_MINUTE_MS };
