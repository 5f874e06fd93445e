import type { AccessGuard } from '../http/auth.js';
import type { Logger } from 'pino';
import type { SchedulerLike } from 'rxjs';
import type { GatewayBus } from '../core/events.js';
import { LogThrottle } from '../core/log-throttle.js';
import type { GatewayModule } from '../core/module.js';
import { onDeviceMessages } from '../device-registry/device-source.js';
import type { PlanogramIndex } from '../planogram/planogram.js';
import { facingKey } from '../planogram/planogram.js';
import type { SqliteDatabase } from '../storage/database.js';
import type { PendingWrites, WriteBehindWriter } from '../storage/write-behind.js';
import { FacingStateStore, type FacingSnapshot } from './facing-state-store.js';
import { historyKey, historyRow, type FacingHistoryRow } from './facing-history.js';
import { FacingHistoryStore } from './facing-history-store.js';
import type { LiveWeight } from './facing-stock-ledger.js';
import { stockRoutes } from './routes.js';
import { ShelfStockBook, toSnapshot, type FacingStockView } from './shelf-stock-book.js';
import { StockPipeline, type StockOutput, type StockPipelineOptions } from './stock-pipeline.js';

const DAY_MS = 86_400_000;
const PRUNE_HISTORY_EVERY_MS = 600_000;

declare module '../core/module.js' {
  interface GatewayServices {
    stock: StockModule;
  }
}

export type StockModuleDeps = {
  bus: GatewayBus;
  db: SqliteDatabase;
  writer: WriteBehindWriter;
  planogram: () => PlanogramIndex;
  options: StockPipelineOptions & { maxHistoryRows: number };
  /** facing history (units over time, for charts): kept `days`, pruned every `pruneEveryMs` (default 10 min) */
  history: { days: number; pruneEveryMs?: number };
  scheduler: SchedulerLike;
  now: () => number;
  log: Logger;
  /** a weight reading for a facing that is not in the planogram (counted by the caller) */
  onUnknownFacing: () => void;
  /** a weight reading that is not a plausible weight for its facing (counted by the caller) */
  onImplausibleReading: () => void;
  /** whether a facing's load cell was faulty before the start: its sensor-fault alert is still active */
  sensorFaulty: (shelfId: string, facing: number) => boolean;
  /** a pipeline output its handler failed on (counted by the caller as an event handler error) */
  onHandlerError: (handler: string, error: unknown) => void;
};

/**
 * Stock on the shelves: shelf weights and kiosk sales from `device.message` → each facing's quantity and debounced
 * low/ok level, published as `stock.changed` / `stock.level` and persisted (write-behind). Levels are state: restored
 * at start. Load cells sending impossible weights are published as `stock.sensor-fault`.
 */
export class StockModule implements GatewayModule {
  readonly name = 'stock';
  private book: ShelfStockBook | undefined;
  private pipeline: StockPipeline | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly facingWrites: PendingWrites<FacingSnapshot>;
  private readonly store: FacingStateStore;
  private readonly historyStore: FacingHistoryStore;
  private readonly historyWrites: PendingWrites<FacingHistoryRow>;
  private pruneTimer: NodeJS.Timeout | undefined;
  private pruning: Promise<void> | undefined;
  private readonly unknownFacingLog: LogThrottle;
  private readonly sensorFaultLog: LogThrottle;

  constructor(private readonly deps: StockModuleDeps) {
    this.store = new FacingStateStore(deps.db);
    this.facingWrites = deps.writer.register(FacingStateStore.writes({ maxHistoryRows: deps.options.maxHistoryRows }));
    this.historyStore = new FacingHistoryStore(deps.db);
    this.historyWrites = deps.writer.register(FacingHistoryStore.writes());
    this.unknownFacingLog = new LogThrottle({ burst: 3, windowMs: 60_000, maxKeys: 1_000 }, deps.now);
    // a cell that flaps between plausible and not must not flood the log; the alert and the counter tell the rest
    this.sensorFaultLog = new LogThrottle({ burst: 3, windowMs: 60_000, maxKeys: 1_000 }, deps.now);
  }

  /** Current stock of every facing (API, live stream); there is one once the module has started. */
  get stock(): ShelfStockBook {
    if (!this.book) throw new Error('stock is not started');
    return this.book;
  }

  get stockIfStarted(): ShelfStockBook | undefined {
    return this.book;
  }

  /** A facing's load cell as it reads now (smoothed), or undefined before a reading or before the start. */
  liveWeight(shelfId: string, facing: number): LiveWeight | undefined {
    return this.pipeline?.liveWeight(shelfId, facing);
  }

  /** Retention: stored raw readings older than `cutoff` are deleted. */
  readonly purgeReadingsBefore = (cutoff: number): Promise<number> => this.store.purgeHistoryBefore(cutoff);
  readonly routes = (guard: AccessGuard) =>
    stockRoutes({ stock: () => this.stock, planogram: this.deps.planogram, history: this.historyStore, guard, now: this.deps.now });

  /** Retention of the facing history: rows older than `stock.historyDays` go, a bounded batch per pass. */
  pruneHistory(): Promise<void> {
    this.pruning ??= this.historyStore
      .pruneBefore(this.deps.now() - this.deps.history.days * DAY_MS)
      .then(
        (removed) => {
          if (removed > 0) this.deps.log.info({ removed, historyDays: this.deps.history.days }, 'facing history pruned');
        },
        (error: unknown) => this.deps.log.warn({ err: error }, 'facing history prune failed; retried at the next pass'),
      )
      .finally(() => (this.pruning = undefined));
    return this.pruning;
  }

  async start(): Promise<void> {
    const planogram = this.deps.planogram();
    const restored = await this.store.loadAll();
    const restoredByKey = new Map(restored.map((s) => [facingKey(s.shelfId, s.facing), s]));
    const book = new ShelfStockBook(planogram, restored);
    const pipeline = new StockPipeline({
      planogram,
      options: this.deps.options,
      scheduler: this.deps.scheduler,
      initialStock: (plan) => {
        const s = restoredByKey.get(facingKey(plan.shelfId, plan.facing));
        return s ? { units: s.units, weightG: s.weightG, source: s.source, lastWeightAt: s.updatedAt, at: s.updatedAt } : undefined;
      },
      // the level is state of its own, persisted with the facing: a facing between the marks stays low after a restart
      initialLevel: (plan) => restoredByKey.get(facingKey(plan.shelfId, plan.facing))?.level,
      onUnknownFacing: (shelfId, facing) => {
        this.deps.onUnknownFacing();
        const suppressed = this.unknownFacingLog.admit(`${shelfId}/${facing}`);
        if (suppressed >= 0)
          this.deps.log.warn({ deviceId: shelfId, facing, suppressed }, 'weight for a facing not in the planogram dropped');
      },
      initialSensorFault: (plan) => this.deps.sensorFaulty(plan.shelfId, plan.facing),
      onImplausibleReading: () => this.deps.onImplausibleReading(),
    });
    pipeline.start((output) => {
      // an output handler that throws must not end the stream (RxJS would report it as an uncaught error)
      try {
        this.apply(output);
      } catch (error) {
        this.deps.onHandlerError('stock-output', error);
      }
    });
    this.book = book;
    this.pipeline = pipeline;
    // shelf readings and kiosk sales only: a label's status never reaches the pipeline
    this.unsubscribe = onDeviceMessages(this.deps.bus, ['shelf/weight', 'kiosk/event'], 'stock-pipeline', (message) =>
      pipeline.push(message),
    );
    this.deps.log.info({ facings: planogram.planogram.facings.length }, 'stock pipeline started');
    // not awaited: a store back after a long stop prunes in the background, in bounded batches
    void this.pruneHistory();
    this.pruneTimer = setInterval(() => void this.pruneHistory(), this.deps.history.pruneEveryMs ?? PRUNE_HISTORY_EVERY_MS);
    this.pruneTimer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.pruneTimer);
    this.pruneTimer = undefined;
    await this.pruning;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.pipeline?.stop();
    this.pipeline = undefined;
  }

  private apply(output: StockOutput): void {
    const book = this.book as ShelfStockBook;
    if (output.type === 'sensor-fault') {
      const { change } = output;
      const suppressed = this.sensorFaultLog.admit(`${change.shelfId}/${change.facing}`);
      if (suppressed >= 0) {
        const fields = { deviceId: change.shelfId, facing: change.facing, weightG: change.weightG, suppressed };
        if (change.faulty) this.deps.log.warn(fields, 'load cell sends impossible weights: readings dropped');
        else this.deps.log.info(fields, 'load cell sends plausible weights again');
      }
      this.deps.bus.emit('stock.sensor-fault', change);
      return;
    }
    if (output.type === 'quantity') {
      const { quantity } = output;
      const previousUnits = book.get(quantity.shelfId, quantity.facing)?.units ?? null;
      const view = book.applyQuantity(quantity);
      if (view) this.changed(view, 'quantity', previousUnits);
      return;
    }
    const { signal } = output;
    const view = book.applySignal(signal);
    if (view) this.changed(view, 'level', view.units);
    const current = view ?? book.get(signal.shelfId, signal.facing);
    if (current) this.deps.bus.emit('stock.level', { view: current, level: signal.level, units: signal.units, at: signal.at });
  }

  private changed(view: FacingStockView, cause: 'quantity' | 'level', previousUnits: number | null): void {
    const snapshot = toSnapshot(view);
    if (snapshot) this.facingWrites.put(facingKey(view.shelfId, view.facing), snapshot);
    const row = historyRow(view, previousUnits);
    if (row) this.historyWrites.put(historyKey(row), row);
    this.deps.bus.emit('stock.changed', { view, cause, previousUnits });
  }
}
