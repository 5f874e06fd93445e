/**
 * A stuck load cell: the same raw weight, to the last digit, reading after reading, while kiosks sell the facing's
 * sku. A live cell jitters by a few grams (temperature, vibration, the ADC's last bit), so an exact repeat run is a
 * frozen reading — a controller resending its last value, a cell jammed by a fallen item. Sales during the run tell a
 * frozen cell from a quiet one: an unsold facing may well read the same. Pure.
 *
 * This runs for every shelf reading: one compare and two counters on a per-facing object made once, nothing allocated.
 */

export type StuckScaleParams = {
  /** identical consecutive readings that make a run suspicious */
  minRepeats: number;
  /** kiosk sales of the facing's sku during the run that make it stuck */
  minSales: number;
};

// a shelf controller reports every few seconds: 30 identical readings are minutes of a cell that does not jitter
export const DEFAULT_STUCK_SCALE_PARAMS: StuckScaleParams = { minRepeats: 30, minSales: 2 };

export type StuckScaleState = {
  /** the last raw weight (NaN before the first) */
  lastWeightG: number;
  /** readings equal to `lastWeightG` in a row, the first included */
  repeats: number;
  /** kiosk units sold of the sku since the run began */
  salesDuringRun: number;
  stuck: boolean;
};

export function emptyStuckScaleState(): StuckScaleState {
  return { lastWeightG: Number.NaN, repeats: 0, salesDuringRun: 0, stuck: false };
}

/** What a reading or a sale changed: 0 nothing, 1 the cell is stuck now, -1 it moves again. Numbers: nothing allocated. */
export type StuckScaleChange = -1 | 0 | 1;

/** One raw reading of the facing's load cell. */
export function observeReading(state: StuckScaleState, weightG: number, params: StuckScaleParams): StuckScaleChange {
  if (weightG === state.lastWeightG) {
    state.repeats++;
    return judge(state, params);
  }
  state.lastWeightG = weightG;
  state.repeats = 1;
  state.salesDuringRun = 0;
  if (!state.stuck) return 0;
  state.stuck = false;
  return -1;
}

/** Kiosks sold `qty` units of the facing's sku. */
export function observeSkuSale(state: StuckScaleState, qty: number, params: StuckScaleParams): StuckScaleChange {
  if (state.repeats === 0) return 0;
  state.salesDuringRun += qty;
  return judge(state, params);
}

function judge(state: StuckScaleState, params: StuckScaleParams): StuckScaleChange {
  if (state.stuck || state.repeats < params.minRepeats || state.salesDuringRun < params.minSales) return 0;
  state.stuck = true;
  return 1;
}
