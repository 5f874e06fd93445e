/**
 * Low stock as named RxJS operators over one facing's events. Time comes from a SchedulerLike so marble tests can
 * run hours of shelf data in milliseconds.
 */
import { defer, distinctUntilChanged, filter, map, scan, switchMap, tap, timer, type OperatorFunction, type SchedulerLike } from 'rxjs';
import type { FacingPlan } from '../planogram/planogram.js';
import { nextStockLevel, type StockEvent, type StockLevel, type StockSource } from './stock.js';
import type { FacingStockLedger } from './facing-stock-ledger.js';

export type ShelfQuantity = {
  shelfId: string;
  facing: number;
  sku: string;
  units: number;
  weightG: number | null;
  source: StockSource;
  at: number;
};

export type RoutedStockEvent = { plan: FacingPlan; event: StockEvent };

/** Weight readings and sales, each routed to its facing → that facing's quantity, whenever it changes. */
export function quantityChanges(ledger: FacingStockLedger): OperatorFunction<RoutedStockEvent, ShelfQuantity> {
  return (events) =>
    events.pipe(
      map((routed) => ledger.apply(routed.plan, routed.event)),
      filter((quantity): quantity is ShelfQuantity => quantity !== undefined),
    );
}

export type StockSignal = { shelfId: string; facing: number; sku: string; level: StockLevel; units: number; at: number };

/**
 * Quantities of one facing → low/ok signals. Hysteresis first (low at ≤ lowStockUnits, ok again only at ≥
 * restockUnits), then a level must hold for `debounceMs` before it is signalled, so a shopper resting a basket on
 * the shelf or a reading jittering around the threshold does not open and resolve alerts. The signal carries the
 * units of the latest reading when it fires (a facing emptied during the wait is signalled with 0 units).
 */
export function lowStockSignals(
  plan: Pick<FacingPlan, 'lowStockUnits' | 'restockUnits'>,
  debounceMs: number,
  scheduler: SchedulerLike,
  initialLevel?: StockLevel,
): OperatorFunction<ShelfQuantity, StockSignal> {
  return (quantities) =>
    defer(() => {
      let latest: StockSignal | undefined;
      return quantities.pipe(
        scan(
          (previous: StockSignal | undefined, q: ShelfQuantity): StockSignal => ({
            shelfId: q.shelfId,
            facing: q.facing,
            sku: q.sku,
            units: q.units,
            at: q.at,
            level: nextStockLevel(previous?.level ?? initialLevel, q.units, plan),
          }),
          undefined,
        ),
        filter((signal): signal is StockSignal => signal !== undefined),
        tap((signal) => (latest = signal)),
        distinctUntilChanged((a, b) => a.level === b.level),
        // a new level restarts the wait; when it has held for debounceMs, signal it with the latest reading
        switchMap((changed) => timer(debounceMs, scheduler).pipe(map(() => latest ?? changed))),
        // a flap that returned to the last signalled level inside the debounce window signals nothing
        distinctUntilChanged((a, b) => a.level === b.level),
      );
    });
}
