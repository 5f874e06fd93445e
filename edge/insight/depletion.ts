/**
 * How fast a facing empties, and the chance it runs empty soon. Pure: no clock, no I/O — time arrives as `at`, the
 * store's hour of day through `hourOf`.
 *
 * Two layers, because a facing alone sells too few units to learn a day's shape from:
 * - **Store traffic by hour of day** (`StoreTraffic`), learned from every facing at once: units taken per facing-hour
 *   in each hour of the day, counted only while a facing holds stock (an empty facing sells nothing whatever the
 *   traffic; counting it would teach that rush hours are quiet). Closed hours learn zero.
 * - **A facing's pace** relative to that traffic: units taken per *traffic-hour* (an hour of average traffic), both
 *   decayed with a half-life counted in traffic-hours, so a quiet night neither teaches nor forgets anything. The
 *   facing's rate at any hour is its pace × the traffic of that hour: the lunch rush is anticipated from the first
 *   sale of the morning.
 * Until the store has been watched long enough for its traffic to be known, a plain recent rate (half-life in wall
 * time) stands in. One drop far above the facing's typical drop (a shopper clearing the facing, a box set down on the
 * scale and lifted) is clipped, so a single outlier cannot fake a rush; a restock (units going up) is not a sale.
 */

export type DepletionParams = {
  /** the recent rate's memory before the store's traffic is known: a sale this long ago weighs half */
  halfLifeMs: number;
  /** a facing's pace memory, in traffic-hours: sales this many average hours ago weigh half */
  paceHalfLifeTrafficHours: number;
  /** a rate is trusted only after the facing was watched this long (wall time) since its first observation or a gap */
  minObservedMs: number;
  /** ... and after it lost this many units (clipped) in that time */
  minUnitsTaken: number;
  /** one drop counts at most this many times the facing's typical drop (and at least `minOutlierUnits`) */
  outlierFactor: number;
  minOutlierUnits: number;
  /** the store's traffic is known once every hour of day was watched for this many facing-hours with stock */
  trafficMinFacingHours: number;
  /** a silence longer than this is a gap (gateway down, clock jump), not a quiet shelf: the facing's watch starts anew */
  maxGapMs: number;
  /** forecasts look this far ahead at most */
  horizonMs: number;
};

export const DEFAULT_DEPLETION_PARAMS: DepletionParams = {
  halfLifeMs: 45 * 60_000,
  paceHalfLifeTrafficHours: 3,
  minObservedMs: 20 * 60_000,
  minUnitsTaken: 3,
  outlierFactor: 4,
  minOutlierUnits: 3,
  trafficMinFacingHours: 20,
  maxGapMs: 3 * 3_600_000,
  horizonMs: 24 * 3_600_000,
};

const HOUR_MS = 3_600_000;

/** The store's traffic by hour of day: two 24-slot arrays, whatever the history's length. One per store. */
export type StoreTraffic = {
  /** units taken (clipped) in each hour of day, over all facings and days */
  takenByHour: number[];
  /** facing-hours watched with stock in each hour of day */
  stockedHoursByHour: number[];
};

export function emptyStoreTraffic(): StoreTraffic {
  return { takenByHour: new Array<number>(24).fill(0), stockedHoursByHour: new Array<number>(24).fill(0) };
}

/**
 * Traffic of each hour of day relative to an average open hour (mean 1 over the hours that sell), once every hour has
 * been watched enough; undefined before.
 */
export function relativeTraffic(traffic: StoreTraffic, params: DepletionParams): number[] | undefined {
  if (traffic.stockedHoursByHour.some((hours) => hours < params.trafficMinFacingHours)) return undefined;
  const perFacingHour = traffic.takenByHour.map((taken, hour) => taken / (traffic.stockedHoursByHour[hour] as number));
  const open = perFacingHour.filter((rate) => rate > 0);
  const mean = open.reduce((sum, rate) => sum + rate, 0) / Math.max(1, open.length);
  return mean > 0 ? perFacingHour.map((rate) => rate / mean) : undefined;
}

/**
 * The store's relative traffic as one moment saw it. A caller looking at every facing at once (the engine's periodic
 * look at a thousand facings) computes it once and hands it to each facing's observation and forecast, instead of
 * three 24-slot passes per facing; what those facings add to the traffic meanwhile (minutes of a day's learning)
 * shows at the next look. Absent, each call computes its own.
 */
export type TrafficSnapshot = { relative: number[] | undefined };

export function trafficSnapshot(traffic: StoreTraffic, params: DepletionParams): TrafficSnapshot {
  return { relative: relativeTraffic(traffic, params) };
}

/** What the estimator keeps per facing: a handful of numbers, whatever the history's length. */
export type DepletionState = {
  units: number | null;
  /** the last observation's time */
  at: number | null;
  /** start of the current watch (first observation, or the first after a gap) */
  watchedSince: number | null;
  /** units taken, each decayed by its wall-clock age, as of `at` */
  decayedTaken: number;
  /** units taken and traffic-hours with stock, both decayed by traffic-hours since (the facing's pace) */
  paceTaken: number;
  paceTrafficHours: number;
  /** units taken (clipped) since `watchedSince` */
  takenSinceWatch: number;
  /** typical drop size (a slow moving average), for the outlier clip and the chance of emptying */
  typicalDrop: number;
};

export type DepletionObservation = {
  /** what the observation did: a sale (units went down), a restock, nothing, or one that was not used */
  kind: 'taken' | 'restocked' | 'unchanged' | 'first' | 'gap' | 'clock-went-back';
  /** units taken as counted for the rate (after the outlier clip) */
  counted: number;
  /** units the facing lost, as observed */
  dropped: number;
};

export function emptyDepletionState(): DepletionState {
  return {
    units: null,
    at: null,
    watchedSince: null,
    decayedTaken: 0,
    paceTaken: 0,
    paceTrafficHours: 0,
    takenSinceWatch: 0,
    typicalDrop: 1,
  };
}

/**
 * One observation of the facing's units at `at` (a change, or the module's periodic look at an unchanged facing, so
 * quiet time counts). Mutates `state` (one per facing) and `traffic` (one per store) and says what it made of it.
 * Observations must come in time order; an earlier one (a clock that went back) is ignored.
 */
export function observeUnits(
  state: DepletionState,
  traffic: StoreTraffic,
  units: number,
  at: number,
  hourOf: (at: number) => number,
  params: DepletionParams,
  snapshot?: TrafficSnapshot,
): DepletionObservation {
  if (state.at === null || state.units === null) {
    Object.assign(state, { units, at, watchedSince: at, decayedTaken: 0, takenSinceWatch: 0 });
    return { kind: 'first', counted: 0, dropped: 0 };
  }
  const elapsed = at - state.at;
  if (elapsed < 0) return { kind: 'clock-went-back', counted: 0, dropped: 0 };
  if (elapsed > params.maxGapMs) {
    // a long silence is not known to be a quiet shelf: watch anew; the pace (in traffic-hours) and the store's traffic stay
    Object.assign(state, { units, at, watchedSince: at, decayedTaken: 0, takenSinceWatch: 0 });
    return { kind: 'gap', counted: 0, dropped: 0 };
  }
  // the time since the last observation, with the units it had: an empty facing sells nothing and teaches nothing
  if (state.units > 0) addStockedTime(state, traffic, state.at, at, hourOf, params, snapshot);
  state.decayedTaken *= halve(elapsed, params.halfLifeMs);
  const previous = state.units;
  state.units = units;
  state.at = at;
  if (units >= previous) return { kind: units > previous ? 'restocked' : 'unchanged', counted: 0, dropped: 0 };

  const drop = previous - units;
  const cap = Math.max(params.minOutlierUnits, params.outlierFactor * state.typicalDrop);
  const counted = Math.min(drop, cap);
  state.typicalDrop += (counted - state.typicalDrop) * 0.1;
  state.decayedTaken += counted;
  state.paceTaken += counted;
  state.takenSinceWatch += counted;
  const hour = hourOf(at);
  traffic.takenByHour[hour] = (traffic.takenByHour[hour] ?? 0) + counted;
  return { kind: 'taken', counted, dropped: drop };
}

/** Units per hour taken recently (wall-clock half-life), or undefined while the facing has not been watched enough. */
export function recentRatePerHour(state: DepletionState, now: number, params: DepletionParams): number | undefined {
  if (!trusted(state, now, params)) return undefined;
  const tau = params.halfLifeMs / Math.LN2;
  const watched = now - (state.watchedSince as number);
  const taken = state.decayedTaken * halve(Math.max(0, now - (state.at as number)), params.halfLifeMs);
  // the decayed count over the decayed length of the watch: unbiased from the first minutes on
  return (taken / (tau * (1 - Math.exp(-watched / tau)))) * HOUR_MS;
}

/** Units per traffic-hour (an hour of average store traffic), or undefined until the facing had some stocked time. */
export function pacePerTrafficHour(state: DepletionState): number | undefined {
  return state.paceTrafficHours >= 0.25 ? state.paceTaken / state.paceTrafficHours : undefined;
}

export type EmptyForecast = {
  /** units per hour right now, as the forecast uses it */
  ratePerHour: number;
  /** when the facing will hold no unit at the expected pace; undefined beyond the horizon */
  emptyAt: number | undefined;
  basis: 'recent-rate' | 'store-traffic';
  /**
   * The chance the facing runs empty within `windowMs` from now: shoppers arrive at random, so a facing with a few units
   * left can empty well before its expected time. Sales are taken as a Poisson process of drops of the typical size.
   */
  chanceEmptyWithin: (windowMs: number) => number;
};

/** The facing's outlook from now: its rate hour by hour ahead (pace × traffic, or the recent rate), when it empties. */
export function forecastEmpty(
  state: DepletionState,
  traffic: StoreTraffic,
  now: number,
  hourOf: (at: number) => number,
  params: DepletionParams,
  snapshot?: TrafficSnapshot,
): EmptyForecast | undefined {
  const units = state.units;
  if (units === null || !trusted(state, now, params)) return undefined;
  const relative = snapshot ? snapshot.relative : relativeTraffic(traffic, params);
  const pace = pacePerTrafficHour(state);
  let rateAt: (at: number) => number;
  let basis: EmptyForecast['basis'];
  if (relative !== undefined && pace !== undefined) {
    rateAt = (at) => pace * (relative[hourOf(at)] as number);
    basis = 'store-traffic';
  } else {
    const recent = recentRatePerHour(state, now, params) as number;
    rateAt = () => recent;
    basis = 'recent-rate';
  }
  const dropSize = Math.max(1, state.typicalDrop);
  return {
    ratePerHour: rateAt(now),
    emptyAt: units === 0 ? now : timeToTake(units, now, rateAt, params.horizonMs),
    basis,
    chanceEmptyWithin: (windowMs) => {
      if (units === 0) return 1;
      const expectedDrops = expectedTaken(now, windowMs, rateAt) / dropSize;
      return poissonAtLeast(Math.ceil(units / dropSize), expectedDrops);
    },
  };
}

/** P(X ≥ k) for X ~ Poisson(mean): 1 − the CDF below k (k is a facing's drops left: tens, so the sum is short). */
export function poissonAtLeast(k: number, mean: number): number {
  if (k <= 0) return 1;
  if (mean <= 0) return 0;
  let term = Math.exp(-mean);
  let below = term;
  for (let i = 1; i < k && i < 10_000; i++) {
    term *= mean / i;
    below += term;
  }
  return Math.max(0, Math.min(1, 1 - below));
}

function trusted(state: DepletionState, now: number, params: DepletionParams): boolean {
  if (state.at === null || state.watchedSince === null) return false;
  if (now - state.at > params.maxGapMs) return false;
  return now - state.watchedSince >= params.minObservedMs && state.takenSinceWatch >= params.minUnitsTaken;
}

/**
 * The stocked time from `from` to `to`, split at hour boundaries (at most 25 slices): the store's facing-hours per hour
 * of day, and the facing's traffic-hours (each hour weighted by its relative traffic), which also decay its pace.
 */
function addStockedTime(
  state: DepletionState,
  traffic: StoreTraffic,
  from: number,
  to: number,
  hourOf: (at: number) => number,
  params: DepletionParams,
  snapshot: TrafficSnapshot | undefined,
): void {
  const relative = snapshot ? snapshot.relative : relativeTraffic(traffic, params);
  let t = from;
  for (let slice = 0; t < to && slice < 25; slice++) {
    const boundary = Math.min(to, (Math.floor(t / HOUR_MS) + 1) * HOUR_MS);
    const hour = hourOf(t);
    const hours = (boundary - t) / HOUR_MS;
    traffic.stockedHoursByHour[hour] = (traffic.stockedHoursByHour[hour] ?? 0) + hours;
    // before the traffic is known every hour weighs as an average one
    const trafficHours = hours * (relative === undefined ? 1 : (relative[hour] as number));
    const keep = Math.pow(0.5, trafficHours / params.paceHalfLifeTrafficHours);
    state.paceTaken *= keep;
    state.paceTrafficHours = state.paceTrafficHours * keep + trafficHours;
    t = boundary;
  }
}

/** Units expected to be taken from `from` over `windowMs`, hour by hour (bounded steps). */
function expectedTaken(from: number, windowMs: number, rateAt: (at: number) => number): number {
  let taken = 0;
  let t = from;
  const end = from + windowMs;
  for (let step = 0; t < end && step < 200; step++) {
    const next = Math.min(end, (Math.floor(t / HOUR_MS) + 1) * HOUR_MS);
    taken += (rateAt(t) * (next - t)) / HOUR_MS;
    t = next;
  }
  return taken;
}

/** When `units` will have been taken at the rates ahead, or undefined beyond the horizon. */
function timeToTake(units: number, from: number, rateAt: (at: number) => number, horizonMs: number): number | undefined {
  let left = units;
  let t = from;
  for (let step = 0; t - from < horizonMs && step < 200; step++) {
    const next = (Math.floor(t / HOUR_MS) + 1) * HOUR_MS;
    const rate = rateAt(t);
    const taken = (rate * (next - t)) / HOUR_MS;
    if (taken >= left && rate > 0) return t + (left / rate) * HOUR_MS;
    left -= taken;
    t = next;
  }
  return undefined;
}

function halve(elapsedMs: number, halfLifeMs: number): number {
  return Math.pow(0.5, elapsedMs / halfLifeMs);
}
