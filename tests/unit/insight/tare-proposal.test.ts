import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TARE_PARAMS as P,
  emptyTareState,
  observeTareReading,
  observeTareUnits,
  proposeTare,
} from '../../../edge/insight/tare-proposal.js';

const SEC = 1000;
const MIN = 60 * SEC;
const T0 = Date.UTC(2026, 11, 7, 10, 0);
/** a cell tared at 40 g holding 250 g units */
const TARE_G = 40;
const UNIT_G = 250;

/** readings every second from `from` for `ms`, `weightAt(i)` each */
function readings(state: ReturnType<typeof emptyTareState>, from: number, ms: number, weightAt: (i: number) => number) {
  for (let i = 0; i * SEC < ms; i++) observeTareReading(state, weightAt(i), from + i * SEC, P);
}

describe('tare proposal', () => {
  it('an empty facing reading a steady 12 g over its tare for 10 min: propose the median as the tare', () => {
    const state = emptyTareState();
    observeTareUnits(state, 0, T0);
    readings(state, T0, 10 * MIN, (i) => TARE_G + 12 + (i % 3) * 0.5);
    expect(proposeTare(state, TARE_G, UNIT_G, T0 + 9 * MIN, P)).toBeUndefined();
    const proposal = proposeTare(state, TARE_G, UNIT_G, T0 + 10 * MIN, P);
    expect(proposal).toMatchObject({ proposedTareG: 52.5, evidence: { medianNetG: 12.5, samples: 60, emptySince: T0 } });
    expect(proposal?.evidence.spreadG).toBeLessThanOrEqual(1);
  });

  it('no proposal: an offset below 5 g, one above half a unit (a unit left on it), a noisy one, a facing holding stock', () => {
    const cases: Array<(i: number) => number> = [
      () => TARE_G + 3,
      () => TARE_G + 200,
      // a hand resting on the shelf now and then: the middle half spans tens of grams
      (i) => TARE_G + 10 + (i % 20 < 10 ? 0 : 40),
    ];
    for (const weightAt of cases) {
      const state = emptyTareState();
      observeTareUnits(state, 0, T0);
      readings(state, T0, 12 * MIN, weightAt);
      expect(proposeTare(state, TARE_G, UNIT_G, T0 + 12 * MIN, P)).toBeUndefined();
    }
    const stocked = emptyTareState();
    observeTareUnits(stocked, 3, T0);
    readings(stocked, T0, 12 * MIN, () => TARE_G + 3 * UNIT_G + 12);
    expect(proposeTare(stocked, TARE_G, UNIT_G, T0 + 12 * MIN, P)).toBeUndefined();
  });

  it('a restock ends the empty stretch; the next one samples afresh', () => {
    const state = emptyTareState();
    observeTareUnits(state, 0, T0);
    readings(state, T0, 10 * MIN, () => TARE_G + 20);
    observeTareUnits(state, 12, T0 + 10 * MIN);
    expect(proposeTare(state, TARE_G, UNIT_G, T0 + 11 * MIN, P)).toBeUndefined();
    observeTareUnits(state, 0, T0 + 60 * MIN);
    // the same empty facing reported again: the stretch goes on from 60 min
    observeTareUnits(state, 0, T0 + 65 * MIN);
    readings(state, T0 + 60 * MIN, 10 * MIN, () => TARE_G + 8);
    expect(proposeTare(state, TARE_G, UNIT_G, T0 + 70 * MIN, P)).toMatchObject({
      proposedTareG: TARE_G + 8,
      evidence: { emptySince: T0 + 60 * MIN },
    });
  });

  it('a cell that went quiet (too few samples) or reads below zero gives no proposal', () => {
    const quiet = emptyTareState();
    observeTareUnits(quiet, 0, T0);
    readings(quiet, T0, 2 * MIN, () => TARE_G + 20);
    expect(proposeTare(quiet, TARE_G, UNIT_G, T0 + 20 * MIN, P)).toBeUndefined();
    const negative = emptyTareState();
    observeTareUnits(negative, 0, T0);
    readings(negative, T0, 10 * MIN, () => -9);
    expect(proposeTare(negative, 0, UNIT_G, T0 + 10 * MIN, P)).toBeUndefined();
  });
});
