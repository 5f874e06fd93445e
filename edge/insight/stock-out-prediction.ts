/**
 * When a facing is predicted to run empty before staff can restock it: the `stock-out-predicted` alert's rule. Pure:
 * the forecast comes from depletion.ts, time from the caller, the clock text from a formatter passed in.
 */
import type { EmptyForecast } from './depletion.js';

export type PredictionPolicy = {
  /** how long a restock takes in this store, from the alert to the facing refilled (config: insight.restockLeadTimeMin) */
  leadTimeMs: number;
  /** the window looked at: lead time × this (an alert must come at least the lead time before the facing empties) */
  windowFactor: number;
  /** the alert opens when the chance of running empty within the window reaches this */
  openChance: number;
  /** ... and resolves when it falls below this (hysteresis: a chance wobbling at the edge opens one alert) */
  resolveChance: number;
};

// tuned on the replay harness (bench/insight.ts): at a 30 min lead time, seeds 1, 7, 99: 92–93 % of stock-outs alerted
// at least the lead time ahead, 8–10 % false alarms; a wider window or a lower chance buys recall with false alarms
export const DEFAULT_PREDICTION_POLICY: Omit<PredictionPolicy, 'leadTimeMs'> = { windowFactor: 2, openChance: 0.15, resolveChance: 0.05 };

/** The facing as the rule needs it (from the planogram and the stock book). */
export type FacingOutlook = {
  shelfId: string;
  facing: number;
  sku: string;
  name: string;
  units: number;
  capacityUnits: number;
};

export type PredictedStockOut = {
  key: string;
  shelfId: string;
  facing: number;
  sku: string;
  title: string;
  /** units to bring: what fills the facing to capacity */
  units: number;
  emptyAt: number;
};

export type PredictionDecision =
  | { action: 'open'; alert: PredictedStockOut }
  | { action: 'update'; alert: PredictedStockOut }
  | { action: 'resolve'; key: string; resolution: 'restocked' | 'rate-fell' | 'ran-empty' }
  | { action: 'none' };

export function stockOutPredictedKey(shelfId: string, facing: number): string {
  return `stock-out-predicted:${shelfId}/${facing}`;
}

/**
 * What to do with the facing's prediction alert now. `active`: whether one is open for this facing; `restocked`: the
 * units just went up. A facing that ran empty resolves the prediction (it came true: the empty facing's own alert
 * takes over); no forecast (too little data, a gap) changes nothing, neither opening nor resolving.
 */
export function decidePrediction(
  facing: FacingOutlook,
  forecast: EmptyForecast | undefined,
  context: { active: boolean; restocked: boolean; now: number; formatTime: (at: number) => string },
  policy: PredictionPolicy,
): PredictionDecision {
  const key = stockOutPredictedKey(facing.shelfId, facing.facing);
  if (context.active && facing.units === 0) return { action: 'resolve', key, resolution: 'ran-empty' };
  if (context.active && context.restocked) return { action: 'resolve', key, resolution: 'restocked' };
  if (forecast === undefined || facing.units === 0) return { action: 'none' };
  const chance = forecast.chanceEmptyWithin(policy.leadTimeMs * policy.windowFactor);
  if (context.active && chance < policy.resolveChance) return { action: 'resolve', key, resolution: 'rate-fell' };
  if (!context.active && chance < policy.openChance) return { action: 'none' };
  // the expected time (beyond the horizon only for a facing whose rate just collapsed: then the window's end)
  const emptyAt = forecast.emptyAt ?? context.now + policy.leadTimeMs * policy.windowFactor;
  const toBring = Math.max(0, facing.capacityUnits - facing.units);
  const alert: PredictedStockOut = {
    key,
    shelfId: facing.shelfId,
    facing: facing.facing,
    sku: facing.sku,
    title: `${facing.name} will run out by ${context.formatTime(emptyAt)}: bring ${toBring} (${facing.units} left)`,
    units: toBring,
    emptyAt,
  };
  return { action: context.active ? 'update' : 'open', alert };
}
