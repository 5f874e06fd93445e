/**
 * Tare proposals for store IT: an empty facing whose load cell reads a steady offset (a liner, a price strip, a cell
 * that drifted since it was tared) counts it as product — a fraction of a unit today, a phantom unit tomorrow. While
 * the facing is empty the detector samples its raw weight (one sample per `sampleEveryMs`, into a ring made once per
 * facing: nothing allocated per reading), and after `minEmptyMs` proposes the median as the new tare when the net
 * offset is between `minOffsetG` and half a unit and the samples agree (steady, not a shopper's hand). No alert: a
 * proposal store IT confirms in the planogram. Pure: time arrives as `at`.
 */

export type TareParams = {
  minEmptyMs: number;
  sampleEveryMs: number;
  /** below this the offset is noise */
  minOffsetG: number;
  /** the middle half of the samples spans at most this: a steady offset */
  maxSpreadG: number;
};

export const DEFAULT_TARE_PARAMS: TareParams = { minEmptyMs: 10 * 60_000, sampleEveryMs: 10_000, minOffsetG: 5, maxSpreadG: 4 };

/** The most samples kept per facing: the latest ones (10 min at one per 10 s is 60). */
const RING = 64;

export type TareState = {
  /** since when the facing reads empty (units 0 from its load cell); undefined while it holds stock or is unknown */
  emptySince: number | undefined;
  lastSampleAt: number;
  /** made at the facing's first empty stretch, reused after */
  samples: Float64Array | undefined;
  count: number;
  next: number;
};

export function emptyTareState(): TareState {
  return { emptySince: undefined, lastSampleAt: Number.NEGATIVE_INFINITY, samples: undefined, count: 0, next: 0 };
}

/** The facing's units from its load cell: an empty stretch starts (or goes on), or ends. */
export function observeTareUnits(state: TareState, units: number, at: number): void {
  if (units !== 0) {
    state.emptySince = undefined;
    return;
  }
  if (state.emptySince !== undefined) return;
  state.emptySince = at;
  state.count = 0;
  state.next = 0;
  state.lastSampleAt = Number.NEGATIVE_INFINITY;
}

/** One raw reading (the hot path): a compare, and at most one number written per `sampleEveryMs`. */
export function observeTareReading(state: TareState, weightG: number, at: number, params: TareParams): void {
  if (state.emptySince === undefined || at - state.lastSampleAt < params.sampleEveryMs) return;
  state.samples ??= new Float64Array(RING);
  state.samples[state.next] = weightG;
  state.next = (state.next + 1) % RING;
  state.count = Math.min(RING, state.count + 1);
  state.lastSampleAt = at;
}

export type TareEvidence = { medianNetG: number; spreadG: number; samples: number; emptySince: number };
export type TareVerdict = { proposedTareG: number; evidence: TareEvidence } | undefined;

/** The proposal for a facing tared at `tareG` holding units of `unitWeightG`, or undefined (none, or not yet). */
export function proposeTare(state: TareState, tareG: number, unitWeightG: number, now: number, params: TareParams): TareVerdict {
  if (!(unitWeightG > 0) || state.emptySince === undefined || state.samples === undefined) return undefined;
  if (now - state.emptySince < params.minEmptyMs) return undefined;
  // enough samples to cover most of the stretch: a cell that went quiet proves nothing
  if (state.count < Math.min(RING, Math.floor((params.minEmptyMs / params.sampleEveryMs) * 0.8))) return undefined;
  const sorted = Array.from(state.samples.subarray(0, state.count)).sort((a, b) => a - b);
  const quantile = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
  const median = quantile(0.5);
  const spreadG = quantile(0.75) - quantile(0.25);
  // a cell reading below zero empty wants re-zeroing by store IT, not a negative tare (the planogram refuses one)
  if (median < 0) return undefined;
  const medianNetG = median - tareG;
  if (Math.abs(medianNetG) < params.minOffsetG || Math.abs(medianNetG) > unitWeightG / 2 || spreadG > params.maxSpreadG) return undefined;
  const round = (g: number) => Math.round(g * 10) / 10;
  return {
    proposedTareG: round(median),
    evidence: { medianNetG: round(medianNetG), spreadG: round(spreadG), samples: state.count, emptySince: state.emptySince },
  };
}
