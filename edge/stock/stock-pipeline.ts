import { Subject, filter, groupBy, map, merge, mergeMap, share, type Observable, type SchedulerLike, type Subscription } from 'rxjs';
import type { FacingPlan, PlanogramIndex } from '../planogram/planogram.js';
import type { FacingStock, StockLevel, StockPolicy } from './stock.js';
import type { DeviceMessage } from '../device-registry/messages.js';
import { FacingStockLedger, type LiveWeight } from './facing-stock-ledger.js';
import { lowStockSignals, quantityChanges, type RoutedStockEvent, type ShelfQuantity, type StockSignal } from './low-stock.js';
import { SensorFaultTracker } from './plausible-weight.js';
import type { SensorFaultChange } from './stock-events.js';

export type StockPipelineOptions = StockPolicy & {
  debounceMs: number;
  /** a gross weight below -sensorToleranceG is a sensor fault (see plausible-weight.ts) */
  sensorToleranceG: number;
};

export type StockOutput =
  | { type: 'quantity'; quantity: ShelfQuantity }
  | { type: 'signal'; signal: StockSignal }
  | { type: 'sensor-fault'; change: SensorFaultChange };

export type StockPipelineDeps = {
  planogram: PlanogramIndex;
  options: StockPipelineOptions;
  scheduler: SchedulerLike;
  /** last known stock of a facing (restored at start), so sales can estimate before the first new reading */
  initialStock: (plan: FacingPlan) => FacingStock | undefined;
  /** level to start hysteresis from: the facing's persisted level (facing_state), so a facing between the marks stays low */
  initialLevel: (plan: FacingPlan) => StockLevel | undefined;
  /** a weight reading for a facing that is not in the planogram */
  onUnknownFacing: (shelfId: string, facing: number) => void;
  /** whether the facing's load cell was faulty before the start (its sensor-fault alert is still active) */
  initialSensorFault: (plan: FacingPlan) => boolean;
  /** a weight reading that is not a plausible weight for its facing: dropped, not counted as stock */
  onImplausibleReading: (shelfId: string, facing: number) => void;
};

/**
 * Shelf weights and kiosk sales → per-facing quantities (when they change) and debounced low/ok signals. Readings
 * are folded into the facing ledger as they arrive; hysteresis and debounce run per facing (one group per planogram
 * facing, so bounded by the planogram) on the changes only. Messages for unknown facings are reported and dropped;
 * so are readings that are not a plausible weight for their facing, which make its sensor faulty until a plausible
 * one comes (`sensor-fault` outputs on each change).
 */
export class StockPipeline {
  private subscription: Subscription | undefined;
  private readonly ledger: FacingStockLedger;
  private readonly changes = new Subject<ShelfQuantity>();
  private readonly sensorFaults = new Subject<SensorFaultChange>();
  private readonly sensors: SensorFaultTracker;

  constructor(private readonly deps: StockPipelineDeps) {
    this.ledger = new FacingStockLedger(deps.planogram, deps.options, deps.initialStock);
    // a fault ends once plausible readings held as long as a level must hold: the same debounce
    this.sensors = new SensorFaultTracker(
      deps.planogram,
      deps.options.sensorToleranceG,
      deps.options.debounceMs,
      deps.initialSensorFault,
      (change) => this.sensorFaults.next(change),
    );
  }

  /** Wires the streams; from now on push() feeds them. */
  start(onOutput: (output: StockOutput) => void): void {
    this.subscription = merge(this.sensorFaultOutputs(), this.fromQuantities(this.changes)).subscribe(onOutput);
  }

  stop(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    this.changes.complete();
    this.sensorFaults.complete();
  }

  /**
   * One device message, from the broker's ingest. This runs for every reading: it is folded into the ledger at
   * once, and only a change of a facing's quantity enters the streams — the same as `outputs()` does, without
   * the per-message operator hops.
   */
  push(message: DeviceMessage): void {
    // a reading goes straight to its facing: no routed event object per reading
    if (message.key === 'shelf/weight') {
      const plan = this.plausibleReadingPlan(message);
      const quantity = plan && this.ledger.weight(plan, message.payload.weightG, message.receivedAt);
      if (quantity) this.changes.next(quantity);
      return;
    }
    const routed = this.route(message);
    if (!routed) return;
    const quantity = this.ledger.apply(routed.plan, routed.event);
    if (quantity) this.changes.next(quantity);
  }

  /** A facing's load cell as it reads now (read on demand, e.g. by the OPC UA server; never on the hot path). */
  liveWeight(shelfId: string, facing: number): LiveWeight | undefined {
    const plan = this.deps.planogram.facing(shelfId, facing);
    return plan && this.ledger.liveWeight(plan);
  }

  /** The whole pipeline as one function of its input (what push() + start() do), for tests. */
  outputs(messages: Observable<DeviceMessage>): Observable<StockOutput> {
    // fault changes are emitted while a message is routed: subscribed first, they come out before its quantity
    return merge(
      this.sensorFaultOutputs(),
      this.fromQuantities(
        messages.pipe(
          map((message) => this.route(message)),
          filter((routed): routed is RoutedStockEvent => routed !== undefined),
          quantityChanges(this.ledger),
        ),
      ),
    );
  }

  private sensorFaultOutputs(): Observable<StockOutput> {
    return this.sensorFaults.pipe(map((change): StockOutput => ({ type: 'sensor-fault', change })));
  }

  /** Quantity changes → themselves as outputs, plus each facing's debounced low/ok signals. */
  private fromQuantities(changes: Observable<ShelfQuantity>): Observable<StockOutput> {
    const { planogram, options, scheduler } = this.deps;
    const quantities = changes.pipe(share());
    const signals = quantities.pipe(
      // quantities only come for planogram facings, so the plan is always found
      groupBy((q) => planogram.facing(q.shelfId, q.facing) as FacingPlan),
      mergeMap((group) => group.pipe(lowStockSignals(group.key, options.debounceMs, scheduler, this.deps.initialLevel(group.key)))),
    );
    return merge(
      quantities.pipe(map((quantity): StockOutput => ({ type: 'quantity', quantity }))),
      signals.pipe(map((signal): StockOutput => ({ type: 'signal', signal }))),
    );
  }

  private route(message: DeviceMessage): RoutedStockEvent | undefined {
    if (message.key === 'shelf/weight') {
      const plan = this.plausibleReadingPlan(message);
      return plan && { plan, event: { type: 'weight', weightG: message.payload.weightG, at: message.receivedAt } };
    }
    if (message.key === 'kiosk/event' && message.payload.type === 'item-scanned' && message.payload.sku) {
      const plan = this.fullestFacingOf(message.payload.sku);
      return plan ? { plan, event: { type: 'sale', qty: message.payload.qty ?? 1, at: message.receivedAt } } : undefined;
    }
    return undefined;
  }

  /** The facing a reading is for, when it is in the planogram and its weight is plausible; else reported, undefined. */
  private plausibleReadingPlan(message: Extract<DeviceMessage, { key: 'shelf/weight' }>): FacingPlan | undefined {
    const plan = this.deps.planogram.facing(message.deviceId, message.payload.facing);
    if (!plan) {
      this.deps.onUnknownFacing(message.deviceId, message.payload.facing);
      return undefined;
    }
    if (!this.sensors.accept(plan, message.payload.weightG, message.receivedAt)) {
      this.deps.onImplausibleReading(plan.shelfId, plan.facing);
      return undefined;
    }
    return plan;
  }

  /** A shopper most likely took the item from the fullest facing of its sku. */
  private fullestFacingOf(sku: string): FacingPlan | undefined {
    let best: FacingPlan | undefined;
    let bestUnits = -1;
    for (const plan of this.deps.planogram.facingsOf(sku)) {
      const units = this.ledger.units(plan) ?? -1;
      if (!best || units > bestUnits) {
        best = plan;
        bestUnits = units;
      }
    }
    return best;
  }
}
