/**
 * The store's relative traffic computed once for many facings (the engine's periodic look): a snapshot of unchanged
 * traffic gives the same observation and forecast as each call computing its own, and the snapshot is what is used.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DEPLETION_PARAMS as P,
  emptyDepletionState,
  emptyStoreTraffic,
  forecastEmpty,
  observeUnits,
  trafficSnapshot,
  type DepletionState,
  type StoreTraffic,
} from '../../../edge/insight/depletion.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const utcHour = (at: number) => new Date(at).getUTCHours();
const T0 = Date.UTC(2026, 11, 7, 0, 0);

/** A day of 30 facings selling 6 units each between 12:00 and 13:00, looked at every 30 min: the traffic is known. */
function learnedTraffic(): StoreTraffic {
  const traffic = emptyStoreTraffic();
  const facings = Array.from({ length: 30 }, () => emptyDepletionState());
  for (let slot = 0; slot <= 48; slot++) {
    for (const facing of facings) observeUnits(facing, traffic, slot >= 25 ? 34 : 40, T0 + slot * 30 * MIN, utcHour, P);
  }
  return traffic;
}

/** The next day, a facing sells 10 units between 12:00 and 12:40. */
function sellingFacing(traffic: StoreTraffic): { state: DepletionState; now: number } {
  const state = emptyDepletionState();
  const day2 = T0 + 24 * HOUR;
  observeUnits(state, traffic, 30, day2 + 11 * HOUR + 50 * MIN, utcHour, P);
  for (let minute = 0; minute <= 40; minute += 4) {
    observeUnits(state, traffic, 30 - minute / 4, day2 + 12 * HOUR + minute * MIN, utcHour, P);
  }
  return { state, now: day2 + 12 * HOUR + 40 * MIN };
}

describe('traffic snapshot', () => {
  it('of unchanged traffic: the same forecast and the same learning as computing it in each call', () => {
    const traffic = learnedTraffic();
    const { state, now } = sellingFacing(traffic);
    const snapshot = trafficSnapshot(traffic, P);
    expect(snapshot.relative).toBeDefined();
    const inline = forecastEmpty(state, traffic, now, utcHour, P);
    const shared = forecastEmpty(state, traffic, now, utcHour, P, snapshot);
    expect(shared?.basis).toBe('store-traffic');
    expect(shared?.emptyAt).toBe(inline?.emptyAt);
    expect(shared?.ratePerHour).toBe(inline?.ratePerHour);

    // a quiet look an hour later, on two copies of the facing: the pace decays by the same traffic-hours
    const copy = { ...state };
    const later = now + HOUR;
    observeUnits(state, { ...traffic, stockedHoursByHour: [...traffic.stockedHoursByHour] }, 20, later, utcHour, P);
    observeUnits(copy, { ...traffic, stockedHoursByHour: [...traffic.stockedHoursByHour] }, 20, later, utcHour, P, snapshot);
    expect(copy.paceTrafficHours).toBe(state.paceTrafficHours);
    expect(copy.paceTaken).toBe(state.paceTaken);
  });

  it('is what the forecast and the observation use: a snapshot from before the traffic was known gives the recent rate', () => {
    const traffic = learnedTraffic();
    const { state, now } = sellingFacing(traffic);
    const unknown = trafficSnapshot(emptyStoreTraffic(), P);
    expect(unknown.relative).toBeUndefined();
    expect(forecastEmpty(state, traffic, now, utcHour, P, unknown)?.basis).toBe('recent-rate');
    // 12:40 to 13:20: without the traffic every minute weighs as an average one; with it 13:00 on weighs nothing
    const withTraffic = { ...state };
    const without = { ...state };
    observeUnits(withTraffic, emptyStoreTraffic(), 20, now + 40 * MIN, utcHour, P, trafficSnapshot(traffic, P));
    observeUnits(without, emptyStoreTraffic(), 20, now + 40 * MIN, utcHour, P, unknown);
    expect(without.paceTrafficHours).not.toBe(withTraffic.paceTrafficHours);
  });
});
