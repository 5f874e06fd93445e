import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DEPLETION_PARAMS,
  emptyDepletionState,
  emptyStoreTraffic,
  forecastEmpty,
  observeUnits,
  poissonAtLeast,
  recentRatePerHour,
  relativeTraffic,
  type DepletionParams,
  type DepletionState,
  type StoreTraffic,
} from '../../../edge/insight/depletion.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const utcHour = (at: number) => new Date(at).getUTCHours();
const P: DepletionParams = DEFAULT_DEPLETION_PARAMS;
const T0 = Date.UTC(2026, 11, 7, 0, 0);

/** A facing selling one unit every `everyMs` from `units`, observed at each sale; returns the last time. */
function sellSteadily(
  state: DepletionState,
  from: number,
  units: number,
  count: number,
  everyMs: number,
  traffic = emptyStoreTraffic(),
): number {
  let at = from;
  observeUnits(state, traffic, units, at, utcHour, P);
  for (let i = 1; i <= count; i++) {
    at += everyMs;
    observeUnits(state, traffic, units - i, at, utcHour, P);
  }
  return at;
}
const observe = (state: DepletionState, units: number, at: number, params = P, traffic: StoreTraffic = emptyStoreTraffic()) =>
  observeUnits(state, traffic, units, at, utcHour, params);

describe('depletion rate', () => {
  it('a steady seller: the rate converges to its pace and the forecast to units / rate', () => {
    const state = emptyDepletionState();
    const at = sellSteadily(state, T0 + 9 * HOUR, 40, 30, 4 * MIN); // 15 units per hour for 2 h
    expect(recentRatePerHour(state, at, P)).toBeCloseTo(15, 0);
    const forecast = forecastEmpty(state, emptyStoreTraffic(), at, utcHour, P);
    expect(forecast?.basis).toBe('recent-rate');
    // 10 units left at 15/h: empty in 40 min
    expect(((forecast?.emptyAt as number) - at) / MIN).toBeGreaterThan(35);
    expect(((forecast?.emptyAt as number) - at) / MIN).toBeLessThan(45);
  });

  it('is not trusted before the facing was watched long enough and lost enough units', () => {
    const state = emptyDepletionState();
    observe(state, 20, T0);
    observe(state, 19, T0 + 5 * MIN);
    observe(state, 18, T0 + 10 * MIN);
    expect(recentRatePerHour(state, T0 + 10 * MIN, P)).toBeUndefined(); // 10 min watched, 2 units
    observe(state, 17, T0 + 25 * MIN);
    expect(recentRatePerHour(state, T0 + 25 * MIN, P)).toBeGreaterThan(0);
  });

  it('a quiet hour lets the rate fall by itself (no observation needed)', () => {
    const state = emptyDepletionState();
    const at = sellSteadily(state, T0 + 9 * HOUR, 40, 20, 3 * MIN);
    const busy = recentRatePerHour(state, at, P) as number;
    const quiet = recentRatePerHour(state, at + 90 * MIN, P) as number;
    expect(quiet).toBeLessThan(busy / 3);
  });

  it('a restock is not a sale: the rate is unchanged and the forecast grows with the units', () => {
    const state = emptyDepletionState();
    const at = sellSteadily(state, T0 + 9 * HOUR, 30, 20, 3 * MIN);
    const before = recentRatePerHour(state, at + MIN, P) as number;
    expect(observe(state, 30, at + MIN).kind).toBe('restocked');
    expect(recentRatePerHour(state, at + MIN, P)).toBeCloseTo(before, 6);
    const forecast = forecastEmpty(state, emptyStoreTraffic(), at + MIN, utcHour, P);
    expect(((forecast?.emptyAt as number) - at) / MIN).toBeGreaterThan(80);
  });

  it('one drop far above the typical one is clipped: a shopper clearing the facing does not fake a rush', () => {
    const clipped = emptyDepletionState();
    let at = sellSteadily(clipped, T0 + 9 * HOUR, 60, 20, 3 * MIN);
    at += MIN;
    const observation = observe(clipped, 20, at); // 20 units at once
    // the typical drop is 1 unit: the clip is max(minOutlierUnits 3, outlierFactor 4 × 1)
    expect(observation).toEqual({ kind: 'taken', counted: 4, dropped: 20 });
    const steady = emptyDepletionState();
    sellSteadily(steady, T0 + 9 * HOUR, 60, 20, 3 * MIN);
    const rateSteady = recentRatePerHour(steady, at, P) as number;
    const unclipped = emptyDepletionState();
    const noClip = { ...P, outlierFactor: 1_000 };
    sellSteadily(unclipped, T0 + 9 * HOUR, 60, 20, 3 * MIN);
    observe(unclipped, 20, at, noClip);
    expect(recentRatePerHour(clipped, at, P) as number).toBeLessThan(rateSteady * 1.5);
    expect(recentRatePerHour(unclipped, at, noClip) as number).toBeGreaterThan(rateSteady * 2);
  });

  it('a clock that went back is ignored, and a long silence starts the watch anew', () => {
    const state = emptyDepletionState();
    const at = sellSteadily(state, T0 + 9 * HOUR, 30, 10, 3 * MIN);
    expect(observe(state, 5, at - HOUR).kind).toBe('clock-went-back');
    expect(state.units).toBe(20);
    expect(observe(state, 19, at + P.maxGapMs + MIN).kind).toBe('gap');
    expect(recentRatePerHour(state, at + P.maxGapMs + MIN, P)).toBeUndefined();
  });

  it("learns the store's traffic by hour of day: a facing selling at lunch pace is not predicted to empty overnight", () => {
    const traffic = emptyStoreTraffic();
    // a day of 30 facings: 6 units each sold between 12:00 and 13:00, nothing else; looked at every 30 min (the module's tick)
    const facings = Array.from({ length: 30 }, () => emptyDepletionState());
    for (let slot = 0; slot <= 48; slot++) {
      for (const facing of facings) observe(facing, slot >= 25 ? 34 : 40, T0 + slot * 30 * MIN, P, traffic);
    }
    const relative = relativeTraffic(traffic, P) as number[];
    expect(relative).toBeDefined();
    expect(relative[12]).toBeGreaterThan(0.5);
    expect(relative[3]).toBe(0);
    // the next day: a facing sells 10 units between 12:00 and 12:40, 20 left. The recent rate alone says empty within
    // the hour and a half; the store's traffic knows sales stop at 13:00 and resume at noon tomorrow
    const state = emptyDepletionState();
    const day2 = T0 + DAY;
    observe(state, 30, day2 + 11 * HOUR + 50 * MIN, P, traffic);
    for (let minute = 0; minute <= 40; minute += 4) observe(state, 30 - minute / 4, day2 + 12 * HOUR + minute * MIN, P, traffic);
    const now = day2 + 12 * HOUR + 40 * MIN;
    const forecast = forecastEmpty(state, traffic, now, utcHour, P);
    expect(forecast?.basis).toBe('store-traffic');
    expect(forecast?.emptyAt ?? Infinity).toBeGreaterThan(day2 + DAY);
    // while with the recent rate alone (no traffic learned) it would empty this afternoon
    const naive = forecastEmpty(state, emptyStoreTraffic(), now, utcHour, P);
    expect(naive?.basis).toBe('recent-rate');
    expect(naive?.emptyAt ?? Infinity).toBeLessThan(now + 3 * HOUR);
  });

  it('the chance of running empty: certain when empty, likelier with fewer units and a longer window', () => {
    const state = emptyDepletionState();
    const at = sellSteadily(state, T0 + 9 * HOUR, 40, 30, 4 * MIN); // 15/h, 10 left
    const forecast = forecastEmpty(state, emptyStoreTraffic(), at, utcHour, P);
    const in20 = forecast?.chanceEmptyWithin(20 * MIN) as number;
    const in60 = forecast?.chanceEmptyWithin(60 * MIN) as number;
    expect(in20).toBeLessThan(0.1);
    expect(in60).toBeGreaterThan(0.5);
    expect(poissonAtLeast(0, 1)).toBe(1);
    expect(poissonAtLeast(3, 0)).toBe(0);
    expect(poissonAtLeast(1, 2)).toBeCloseTo(1 - Math.exp(-2), 10);
  });

  it('an empty facing is empty now', () => {
    const state = emptyDepletionState();
    const at = sellSteadily(state, T0 + 9 * HOUR, 10, 10, 3 * MIN);
    expect(forecastEmpty(state, emptyStoreTraffic(), at, utcHour, P)?.emptyAt).toBe(at);
  });
});
