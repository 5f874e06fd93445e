/**
 * A seeded day (or days) of a store's shelves, minute by minute, with what really happened on each facing: shoppers
 * taking units at rush hours, staff rounds refilling low facings, facings left empty until someone notices. Beside the
 * ground truth it emits what the devices emit: every facing's load cell reading in grams every `readingIntervalMs`
 * (noise, a hand resting on the shelf now and then, frozen or drifted cells), and kiosk payments. The replay harness
 * feeds the device side to the gateway's pipelines and scores the detectors against the ground truth.
 *
 * Deterministic: the same seed gives the same store and the same day, event for event.
 */

import { seededRandom, type RandomSource } from './random.js';

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
  /** one unit on the load cell, and what the cell reads empty (the planogram's product and facing) */
  unitWeightG: number;
  tareG: number;
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
  /** share of the units taken that are paid at a self-checkout kiosk (the rest at staffed tills the gateway does not see) */
  kioskShare: number;
  /** a shopper pays this long after taking the product: uniform between the two ... */
  shoppingTimeMs: readonly [number, number];
  /** ... but this share of shoppers takes longer, up to twice the longest (a long trip, a coffee on the way) */
  longShoppingShare: number;
  /** facings whose product is, from a random open hour on, sold from somewhere else (a second placement) */
  misplacedFacings: number;
  /** facings whose load cell freezes at a random open hour (it reports the same units while the facing sells) */
  stuckFacings: number;
  /**
   * Facings blocked for a few hours of the last day (a pallet in front, hidden, mislabelled): stocked, nobody takes.
   * They are extra facings after `facings`, simulated with their own seeded generator, so the other facings' day is
   * the same event for event whatever their number.
   */
  blockedFacings: number;
  /**
   * Facings whose load cell drifted overnight before the last day: it reads `offsetG` over its tare (a liner, a cell
   * out of calibration), invisible in the units but a steady weight when the facing is empty. Drawn with their own
   * seeded generator among the facings no other fault has; they change no unit, only the raw weight.
   */
  driftingFacings: number;
  /** every load cell reports its gross weight this often (a shelf controller reports every second; fewer keep it quick) */
  readingIntervalMs: number;
  /** σ of a live cell's noise per reading, grams (devices/shelf-simulator.ts: 2 g) */
  cellNoiseG: number;
  /** chance per reading that a hand or a basket rests on the facing for that one reading (1–3 units' weight more) */
  cellBumpChance: number;
};

export const DEFAULT_SCENARIO: ScenarioOptions = {
  seed: 42,
  facings: 500,
  days: 1,
  startAt: Date.UTC(2026, 11, 7),
  roundHours: [7, 11, 15, 19],
  roundRefillBelow: 0.5,
  emptyNoticedAfterMs: 45 * MINUTE_MS,
  kioskShare: 0.6,
  shoppingTimeMs: [2 * MINUTE_MS, 20 * MINUTE_MS],
  longShoppingShare: 0.05,
  misplacedFacings: 10,
  stuckFacings: 10,
  blockedFacings: 10,
  driftingFacings: 10,
  readingIntervalMs: 10_000,
  cellNoiseG: 2,
  cellBumpChance: 1 / 20_000,
};

/**
 * What happened, in time order. `units` is the facing's true count after the event; `seenByShelf` says whether its load
 * cell saw it (not for a misplaced or stuck facing). `shelf-weights` is what the devices say: every load cell's gross
 * reading at `at`, indexed like the facings (the array is reused: read it before asking for the next event).
 * `paid-at-kiosk` is a kiosk's `item-scanned`; `shelfSawTake` (ground truth) says whether the shelf saw its take.
 */
export type ScenarioEvent =
  | { type: 'taken'; at: number; facing: ScenarioFacing; qty: number; units: number; seenByShelf: boolean }
  | { type: 'restocked'; at: number; facing: ScenarioFacing; units: number; seenByShelf: boolean }
  | { type: 'ran-empty'; at: number; facing: ScenarioFacing; seenByShelf: boolean }
  | { type: 'paid-at-kiosk'; at: number; sku: string; qty: number; shelfSawTake: boolean }
  | { type: 'shelf-weights'; at: number; weightsG: Float64Array }
  | { type: 'fault-started'; at: number; facing: ScenarioFacing; kind: 'misplaced' | 'stuck' | 'blocked' }
  | { type: 'fault-ended'; at: number; facing: ScenarioFacing; kind: 'blocked' }
  | { type: 'cell-drifted'; at: number; facing: ScenarioFacing; offsetG: number };

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

export function scenarioFacings(options: Pick<ScenarioOptions, 'seed' | 'facings' | 'blockedFacings'>): ScenarioFacing[] {
  const random = seededRandom(options.seed);
  const blockedRandom = seededRandom(options.seed ^ 0xb10c);
  return Array.from({ length: options.facings + options.blockedFacings }, (_, i) => {
    const draw = i < options.facings ? random : blockedRandom;
    // log-normal pace: most facings sell a few an hour, a few sell fast (drinks, bread), some barely move
    const pace = Math.exp(Math.log(2.5) + 0.9 * gaussian(draw));
    return {
      shelfId: `shelf-${String(Math.floor(i / 6) + 1).padStart(3, '0')}`,
      facing: (i % 6) + 1,
      sku: `40${String(1_000_000 + i).padStart(11, '0')}`,
      capacityUnits: 12 + Math.floor(draw() * 29),
      baseRatePerHour: Math.min(30, pace),
      // 80–500 g by the facing's place (no draw: the facings' other draws stay what they were)
      unitWeightG: 80 + ((i * 37) % 420),
      tareG: 0,
    };
  });
}

function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/**
 * The scenario's events in time order, minute by minute; facings start full at midnight. Within a minute the events are
 * drawn facing by facing, then put in time order with the load cells' readings between them.
 */
export function* scenarioEvents(options: ScenarioOptions, facings: readonly ScenarioFacing[]): Generator<ScenarioEvent> {
  const mainRandom = seededRandom(options.seed ^ 0x5eed);
  // the blocked facings' own stream: the other facings' draws stay what they were without them
  const blockedRandom = seededRandom(options.seed ^ 0xb10c ^ 0x5eed);
  const blocks = blockPlan(options, blockedRandom);
  const blockedNow = facings.map(() => false);
  const units = facings.map((f) => f.capacityUnits);
  const emptySince = facings.map(() => -1);
  const minutes = options.days * 24 * 60;
  const faults = faultPlan(options, options.facings, seededRandom(options.seed ^ 0xfa17));
  const faultKind = facings.map(() => undefined as 'misplaced' | 'stuck' | undefined);
  const drifts = driftPlan(options, new Set([...faults.values()].flat().map((f) => f.index)), seededRandom(options.seed ^ 0xd21f7));
  const lastDayMinute = (options.days - 1) * 24 * 60;
  // the load cells: their own stream, so the shoppers' draws are the same with or without readings
  const cells = new LoadCells(facings, options, seededRandom(options.seed ^ 0x5ca1e));
  let nextReadingAt = options.startAt;
  // kiosk payments by the minute they happen: at most shoppingTime / 1 min buckets ahead
  const payments = new Map<number, ScenarioEvent[]>();
  // one minute's events (a few dozen), put in time order before they are yielded
  const minuteEvents: ScenarioEvent[] = [];
  for (let minute = 0; minute < minutes; minute++) {
    const at = options.startAt + minute * MINUTE_MS;
    const hour = Math.floor((minute % (24 * 60)) / 60);
    const round = minute % 60 === 0 && options.roundHours.includes(hour);
    const traffic = STORE_TRAFFIC_BY_HOUR[hour] as number;
    minuteEvents.length = 0;
    if (minute === lastDayMinute) {
      for (const drift of drifts)
        minuteEvents.push({ type: 'cell-drifted', at, facing: facings[drift.index] as ScenarioFacing, offsetG: drift.offsetG });
    }
    minuteEvents.push(...(payments.get(minute) ?? []));
    payments.delete(minute);
    for (const fault of faults.get(minute) ?? []) {
      faultKind[fault.index] = fault.kind;
      minuteEvents.push({ type: 'fault-started', at, facing: facings[fault.index] as ScenarioFacing, kind: fault.kind });
    }
    for (const block of blocks) {
      const index = options.facings + block.index;
      if (block.fromMinute === minute || block.toMinute === minute) blockedNow[index] = block.fromMinute === minute;
      const facing = facings[index] as ScenarioFacing;
      if (block.fromMinute === minute) minuteEvents.push({ type: 'fault-started', at, facing, kind: 'blocked' });
      if (block.toMinute === minute) minuteEvents.push({ type: 'fault-ended', at, facing, kind: 'blocked' });
    }
    for (let i = 0; i < facings.length; i++) {
      const facing = facings[i] as ScenarioFacing;
      const random = i < options.facings ? mainRandom : blockedRandom;
      const seenByShelf = faultKind[i] === undefined;
      const had = units[i] as number;
      const noticed = had === 0 && at - (emptySince[i] as number) >= options.emptyNoticedAfterMs;
      if ((round && had <= facing.capacityUnits * options.roundRefillBelow) || noticed) {
        units[i] = facing.capacityUnits;
        emptySince[i] = -1;
        minuteEvents.push({ type: 'restocked', at, facing, units: facing.capacityUnits, seenByShelf });
        continue;
      }
      if (had === 0 || traffic === 0 || blockedNow[i] === true) continue;
      const shoppers = poisson((facing.baseRatePerHour * traffic) / 60, random);
      if (shoppers === 0) continue;
      let qty = 0;
      // most take one; some two or three; now and then one clears a good part of the facing
      for (let s = 0; s < shoppers; s++) {
        const r = random();
        qty += r < 0.85 ? 1 : r < 0.995 ? 2 + Math.floor(random() * 2) : 6 + Math.floor(random() * 5);
      }
      // a misplaced product is taken from its other placement: the facing keeps its units
      qty = Math.min(qty, had);
      if (faultKind[i] !== 'misplaced') units[i] = had - qty;
      const takenAt = at + Math.floor(random() * MINUTE_MS);
      minuteEvents.push({ type: 'taken', at: takenAt, facing, qty, units: units[i] as number, seenByShelf });
      if (random() < options.kioskShare) {
        const [min, max] = options.shoppingTimeMs;
        const long = random() < options.longShoppingShare;
        const paidAt = takenAt + (long ? max + Math.floor(random() * max) : min + Math.floor(random() * (max - min)));
        const paidMinute = Math.floor((paidAt - options.startAt) / MINUTE_MS);
        const bucket = payments.get(paidMinute) ?? [];
        bucket.push({ type: 'paid-at-kiosk', at: paidAt, sku: facing.sku, qty, shelfSawTake: seenByShelf });
        payments.set(paidMinute, bucket);
      }
      if (units[i] === 0) {
        emptySince[i] = at;
        minuteEvents.push({ type: 'ran-empty', at: at + MINUTE_MS - 1, facing, seenByShelf });
      }
    }
    // in time order (a stable sort: events of one instant keep the order they were drawn in), the readings between them
    minuteEvents.sort((a, b) => a.at - b.at);
    for (const event of minuteEvents) {
      for (; nextReadingAt < event.at; nextReadingAt += options.readingIntervalMs) yield cells.read(nextReadingAt);
      cells.follow(event);
      yield event;
    }
    for (const end = at + MINUTE_MS; nextReadingAt < end; nextReadingAt += options.readingIntervalMs) yield cells.read(nextReadingAt);
  }
}

/**
 * Every facing's load cell (devices/shelf-simulator.ts's model): gross weight = tare + units × unit weight, plus
 * Gaussian noise to 0.1 g as a controller reports it, and now and then a hand or a basket resting on the facing for
 * one reading. A stuck cell repeats its last report to the digit (a controller resending its last value, a jammed
 * cell); a drifted one reads its offset on top. Arrays, not an object per facing: read every 10 s for every facing.
 */
class LoadCells {
  private readonly index: Map<ScenarioFacing, number>;
  private readonly units: Float64Array;
  private readonly offsetG: Float64Array;
  /** a stuck cell's frozen report; NaN while it is live */
  private readonly frozenG: Float64Array;
  /** the reading the consumer gets (reused: the event says to read it before the next one) */
  private readonly weightsG: Float64Array;

  constructor(
    private readonly facings: readonly ScenarioFacing[],
    private readonly options: Pick<ScenarioOptions, 'cellNoiseG' | 'cellBumpChance'>,
    private readonly random: RandomSource,
  ) {
    this.index = new Map(facings.map((f, i) => [f, i]));
    this.units = Float64Array.from(facings, (f) => f.capacityUnits);
    this.offsetG = new Float64Array(facings.length);
    this.frozenG = new Float64Array(facings.length).fill(Number.NaN);
    this.weightsG = new Float64Array(facings.length).fill(Number.NaN);
  }

  /** What the cells feel of an event: units taken or put back (true units: a stuck cell's are not what it reports). */
  follow(event: ScenarioEvent): void {
    switch (event.type) {
      case 'taken':
      case 'restocked':
        this.units[this.index.get(event.facing) as number] = event.units;
        return;
      case 'fault-started':
        if (event.kind === 'stuck') {
          const i = this.index.get(event.facing) as number;
          const last = this.weightsG[i] as number;
          // before any report: what it would read without noise
          this.frozenG[i] = Number.isNaN(last) ? this.idealG(i) : last;
        }
        return;
      case 'cell-drifted':
        this.offsetG[this.index.get(event.facing) as number] = event.offsetG;
        return;
      default:
        return;
    }
  }

  read(at: number): ScenarioEvent {
    const { cellNoiseG, cellBumpChance } = this.options;
    for (let i = 0; i < this.facings.length; i++) {
      const frozen = this.frozenG[i] as number;
      if (!Number.isNaN(frozen)) {
        this.weightsG[i] = frozen;
        continue;
      }
      let weightG = this.idealG(i) + cellNoiseG * gaussian(this.random);
      if (this.random() < cellBumpChance) weightG += (1 + Math.floor(this.random() * 3)) * (this.facings[i] as ScenarioFacing).unitWeightG;
      this.weightsG[i] = Math.round(weightG * 10) / 10;
    }
    return { type: 'shelf-weights', at, weightsG: this.weightsG };
  }

  private idealG(i: number): number {
    const facing = this.facings[i] as ScenarioFacing;
    return facing.tareG + (this.units[i] as number) * facing.unitWeightG + (this.offsetG[i] as number);
  }
}

/** When each blocked facing (0-based among the extras) is blocked: from a minute of 9:00–15:59 of the last day, 2–4 h. */
function blockPlan(options: ScenarioOptions, random: () => number): Array<{ index: number; fromMinute: number; toMinute: number }> {
  const day = options.days - 1;
  return Array.from({ length: options.blockedFacings }, (_, index) => {
    const fromMinute = day * 24 * 60 + 9 * 60 + Math.floor(random() * 7 * 60);
    return { index, fromMinute, toMinute: fromMinute + 120 + Math.floor(random() * 120) };
  });
}

/** Which facings' cells drift (none of the other faults' facings), by how much: 8–38 g, under half of most units. */
function driftPlan(options: ScenarioOptions, taken: ReadonlySet<number>, random: () => number): Array<{ index: number; offsetG: number }> {
  const drifts: Array<{ index: number; offsetG: number }> = [];
  const used = new Set(taken);
  const wanted = Math.min(options.driftingFacings, options.facings - used.size);
  for (let n = 0; n < wanted; n++) {
    let index = Math.floor(random() * options.facings);
    while (used.has(index)) index = (index + 1) % options.facings;
    used.add(index);
    drifts.push({ index, offsetG: Math.round((8 + random() * 30) * 10) / 10 });
  }
  return drifts;
}

/** Which facings go wrong when: distinct facings, each from a random minute of an open hour (9:00–17:59) of a day. */
function faultPlan(
  options: ScenarioOptions,
  facingCount: number,
  random: () => number,
): Map<number, Array<{ index: number; kind: 'misplaced' | 'stuck' }>> {
  const plan = new Map<number, Array<{ index: number; kind: 'misplaced' | 'stuck' }>>();
  const used = new Set<number>();
  const wanted = Math.min(facingCount, options.misplacedFacings + options.stuckFacings);
  for (let n = 0; n < wanted; n++) {
    let index = Math.floor(random() * facingCount);
    while (used.has(index)) index = (index + 1) % facingCount;
    used.add(index);
    // on the last day: the days before it are the history the detectors learn from
    const day = options.days - 1;
    const minute = day * 24 * 60 + 9 * 60 + Math.floor(random() * 9 * 60);
    const list = plan.get(minute) ?? [];
    list.push({ index, kind: n < options.misplacedFacings ? 'misplaced' : 'stuck' });
    plan.set(minute, list);
  }
  return plan;
}

export { HOUR_MS as SCENARIO_HOUR_MS, MINUTE_MS as SCENARIO_MINUTE_MS };
