import { groupBy, map, merge, mergeMap, share, type Observable, type SchedulerLike, type Subscription } from 'rxjs';
import { facingKey, type FacingPlan, type PlanogramIndex } from '../domain/planogram.js';
import type { FacingStock, StockEvent, StockLevel, StockPolicy } from '../domain/stock.js';
import type { DeviceMessage } from '../devices/messages.js';
import { lowStockSignals, onShelfQuantity, type ShelfQuantity, type StockSignal } from './low-stock.js';

export type StockPipelineOptions = StockPolicy & { debounceMs: number };

type RoutedEvent = { plan: FacingPlan; event: StockEvent };

export type StockOutput = { type: 'quantity'; quantity: ShelfQuantity } | { type: 'signal'; signal: StockSignal };

export type StockPipelineDeps = {
  planogram: PlanogramIndex;
  options: StockPipelineOptions;
  scheduler: SchedulerLike;
  /** last known stock of a facing (restored at start), so sales can estimate before the first new reading */
  initialStock: (key: string) => FacingStock | undefined;
  /** level to start hysteresis from: 'low' when an alert for the facing is still active */
  initialLevel: (key: string) => StockLevel | undefined;
  /** current units of a facing, to send a sale to the fullest facing of its sku */
  currentUnits: (plan: FacingPlan) => number | null;
  /** a weight reading for a facing that is not in the planogram */
  onUnknownFacing: (shelfId: string, facing: number) => void;
};

/**
 * Shelf weights and kiosk sales → per-facing quantities and debounced low/ok signals. One group per planogram
 * facing (bounded by the planogram); messages for unknown facings are reported and dropped.
 */
export class StockPipeline {
  private subscription: Subscription | undefined;

  constructor(private readonly deps: StockPipelineDeps) {}

  start(messages: Observable<DeviceMessage>, onOutput: (output: StockOutput) => void): void {
    this.subscription = this.outputs(messages).subscribe(onOutput);
  }

  stop(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }

  /** The whole pipeline as one function of its input, for tests. */
  outputs(messages: Observable<DeviceMessage>): Observable<StockOutput> {
    const { planogram, options, scheduler } = this.deps;
    return messages.pipe(
      mergeMap((message) => this.route(message)),
      groupBy((routed) => routed.plan),
      mergeMap((group) => {
        const plan = group.key;
        const key = facingKey(plan.shelfId, plan.facing);
        const unitWeightG = planogram.product(plan.sku)?.unitWeightG ?? 1;
        const quantities = group.pipe(
          map((routed) => routed.event),
          onShelfQuantity(plan, unitWeightG, options, this.deps.initialStock(key)),
          share(),
        );
        return merge(
          quantities.pipe(map((quantity): StockOutput => ({ type: 'quantity', quantity }))),
          quantities.pipe(
            lowStockSignals(plan, options.debounceMs, scheduler, this.deps.initialLevel(key)),
            map((signal): StockOutput => ({ type: 'signal', signal })),
          ),
        );
      }),
    );
  }

  private route(message: DeviceMessage): RoutedEvent[] {
    if (message.key === 'shelf/weight') {
      const plan = this.deps.planogram.facing(message.deviceId, message.payload.facing);
      if (!plan) {
        this.deps.onUnknownFacing(message.deviceId, message.payload.facing);
        return [];
      }
      return [{ plan, event: { type: 'weight', weightG: message.payload.weightG, at: message.receivedAt } }];
    }
    if (message.key === 'kiosk/event' && message.payload.type === 'item-scanned' && message.payload.sku) {
      const plan = this.fullestFacingOf(message.payload.sku);
      return plan ? [{ plan, event: { type: 'sale', qty: message.payload.qty ?? 1, at: message.receivedAt } }] : [];
    }
    return [];
  }

  private fullestFacingOf(sku: string): FacingPlan | undefined {
    let best: FacingPlan | undefined;
    let bestUnits = -1;
    for (const plan of this.deps.planogram.facingsOf(sku)) {
      const units = this.deps.currentUnits(plan) ?? -1;
      if (!best || units > bestUnits) {
        best = plan;
        bestUnits = units;
      }
    }
    return best;
  }
}
