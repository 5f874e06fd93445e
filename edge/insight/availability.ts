/**
 * Units of a sku HQ's online shop may promise: what its facings hold minus a safety buffer, so "in stock at this store"
 * never oversells. Relayed change-only and coalesced per sku (a busy sku sends at most one update per period). Pure
 * functions and one named RxJS operator; time comes from a SchedulerLike.
 */
import { auditTime, distinctUntilChanged, groupBy, mergeMap, type OperatorFunction, type SchedulerLike } from 'rxjs';

export type SkuAvailability = {
  sku: string;
  /** units that may be promised: on the shelf minus the buffer, never negative */
  availableUnits: number;
  /** units on the shelf across the sku's facings with known units */
  shelfUnits: number;
  /** facings of the sku whose units are unknown (no reading yet): their stock is not counted */
  unknownFacings: number;
  at: number;
};

/** The sku's availability from its facings' units (null: unknown). */
export function skuAvailability(sku: string, facingUnits: readonly (number | null)[], safetyUnits: number, at: number): SkuAvailability {
  let shelfUnits = 0;
  let unknownFacings = 0;
  for (const units of facingUnits) {
    if (units === null) unknownFacings++;
    else shelfUnits += units;
  }
  return { sku, availableUnits: Math.max(0, shelfUnits - safetyUnits), shelfUnits, unknownFacings, at };
}

/**
 * Per sku: only changes of the available units, at most one per `coalesceMs` (the latest value at the end of the
 * period, so the last word is never lost). Skus are independent: a busy one does not delay another. One group per sku:
 * bounded by the planogram's skus, the only ones the insight room feeds in.
 */
export function availabilityChanges(coalesceMs: number, scheduler: SchedulerLike): OperatorFunction<SkuAvailability, SkuAvailability> {
  return (source) =>
    source.pipe(
      groupBy((a) => a.sku),
      mergeMap((perSku) =>
        perSku.pipe(
          distinctUntilChanged((a, b) => a.availableUnits === b.availableUnits),
          auditTime(coalesceMs, scheduler),
          distinctUntilChanged((a, b) => a.availableUnits === b.availableUnits),
        ),
      ),
    );
}
