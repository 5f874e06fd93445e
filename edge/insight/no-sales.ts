/**
 * No sales: a facing that holds stock but sells nothing for many times its usual interval at busy hours — blocked by
 * a pallet, hidden behind another product, mislabelled. Pure: time arrives as `at`, the store's traffic as an array.
 *
 * The facing's pace here is its own, with a long memory (units per traffic-hour, half-life `paceHalfLifeTrafficHours`):
 * depletion.ts's pace forgets in three traffic-hours, which suits a forecast but is too noisy to call a silence odd.
 * It is frozen at the last sale: a pace that decays through the silence would talk itself out of the alarm. Over the
 * silence the detector adds up the traffic-hours that passed while the facing held stock (closed hours weigh 0, a
 * rush hour 2), so the expected sales are pace × traffic-hours, counted in drops (a shopper takes 1.25 units on
 * average). Shoppers arrive at random and a store has tens of thousands of silences between sales a day, so the bar
 * is high: the chance of an honest silence of `minExpectedDrops` is e^-minExpectedDrops.
 */

export type NoSalesParams = {
  /** drops (shoppers' takes) expected over the silence, with none seen, that raise the warning */
  minExpectedDrops: number;
  /** the facing's own pace memory, in traffic-hours */
  paceHalfLifeTrafficHours: number;
  /** a pace counts only after this many units (decayed) in its memory: a slow or new facing is never judged */
  minPaceUnits: number;
  /**
   * before the store's traffic by hour is known (a day), judge with every hour alike instead of not at all: for a demo
   * or a store open around the clock (insight.noSalesBeforeTrafficKnown); a closed hour then counts as a busy one
   */
  flatTrafficUntilKnown: boolean;
};

// tuned on the replay harness (bench/insight-replay.ts, docs/insight.md): fewer expected drops raise false alarms
// on healthy facings (500 facings, ~20,000 silences a day), more find blocked facings later
export const DEFAULT_NO_SALES_PARAMS: NoSalesParams = {
  minExpectedDrops: 10,
  paceHalfLifeTrafficHours: 24,
  minPaceUnits: 10,
  flatTrafficUntilKnown: false,
};

/** Every hour as busy as the average open hour. */
const FLAT_TRAFFIC: readonly number[] = new Array<number>(24).fill(1);

/** Per facing: a few numbers. */
export type NoSalesState = {
  /** units taken and traffic-hours with stock, both decayed by traffic-hours (the long pace) */
  taken: number;
  trafficHours: number;
  /** the long pace at the last sale (units per traffic-hour); undefined until it was worth trusting */
  paceAtSale: number | undefined;
  /** traffic-hours the facing held stock since its last sale (or since its watch began) */
  trafficHoursSilent: number;
  /** the last time looked at */
  at: number | undefined;
  alerting: boolean;
};

export function emptyNoSalesState(): NoSalesState {
  return { taken: 0, trafficHours: 0, paceAtSale: undefined, trafficHoursSilent: 0, at: undefined, alerting: false };
}

/** What the facing did, as depletion.ts's observeUnits saw it, with what the facing holds now. */
export type NoSalesInput = {
  kind: 'taken' | 'restocked' | 'unchanged' | 'first' | 'gap';
  at: number;
  /** units on the facing before and after the observation */
  unitsBefore: number;
  units: number;
  /** units taken, as counted for the rate (outliers clipped) */
  counted: number;
  /** the facing's typical drop (units a shopper takes) */
  typicalDrop: number;
};

export type NoSalesVerdict = { change: 'none' } | { change: 'open'; expectedUnits: number } | { change: 'resolve' };

/**
 * One observation of the facing (a change or the periodic look). `learned` is the store's traffic by hour of day
 * (mean 1; undefined while it is not known: then nothing is judged, or every hour counts alike with
 * `flatTrafficUntilKnown`), `hourOf` the store's hour.
 */
export function observeNoSales(
  state: NoSalesState,
  input: NoSalesInput,
  learned: readonly number[] | undefined,
  hourOf: (at: number) => number,
  params: NoSalesParams,
): NoSalesVerdict {
  const relative = learned ?? (params.flatTrafficUntilKnown ? FLAT_TRAFFIC : undefined);
  const previousAt = state.at;
  if (previousAt !== undefined && input.at < previousAt) return { change: 'none' };
  state.at = input.at;
  // a gap (gateway down, clock jump) or a first look: nothing is known of the time before
  if (input.kind === 'gap' || input.kind === 'first' || previousAt === undefined) {
    state.trafficHoursSilent = 0;
    return { change: 'none' };
  }
  if (relative === undefined) return { change: 'none' };
  if (input.unitsBefore > 0) {
    // the stretch just passed, with stock: it teaches the pace and, without a sale, lengthens the silence
    const hours = trafficHours(previousAt, input.at, relative, hourOf);
    const keep = Math.pow(0.5, hours / params.paceHalfLifeTrafficHours);
    state.taken *= keep;
    state.trafficHours = state.trafficHours * keep + hours;
    state.trafficHoursSilent += hours;
  }
  if (input.kind === 'taken') {
    state.taken += input.counted;
    state.trafficHoursSilent = 0;
    state.paceAtSale = state.taken >= params.minPaceUnits && state.trafficHours > 0 ? state.taken / state.trafficHours : undefined;
    if (!state.alerting) return { change: 'none' };
    state.alerting = false;
    return { change: 'resolve' };
  }
  if (state.alerting || state.paceAtSale === undefined || input.units <= 0) return { change: 'none' };
  // never at a closed hour: no shopper, no evidence, and no one to send
  if (!((relative[hourOf(input.at)] ?? 0) > 0)) return { change: 'none' };
  const expectedUnits = state.paceAtSale * state.trafficHoursSilent;
  if (expectedUnits / Math.max(1, input.typicalDrop) < params.minExpectedDrops) return { change: 'none' };
  state.alerting = true;
  return { change: 'open', expectedUnits };
}

const HOUR_MS = 3_600_000;

/** Traffic-hours from `from` to `to`: each slice of an hour weighted by that hour's relative traffic (≤ 25 slices). */
function trafficHours(from: number, to: number, relative: readonly number[], hourOf: (at: number) => number): number {
  let sum = 0;
  let t = from;
  for (let slice = 0; t < to && slice < 25; slice++) {
    const boundary = Math.min(to, (Math.floor(t / HOUR_MS) + 1) * HOUR_MS);
    sum += ((boundary - t) / HOUR_MS) * (relative[hourOf(t)] ?? 0);
    t = boundary;
  }
  return sum;
}
