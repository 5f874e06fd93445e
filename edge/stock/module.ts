import type { Logger } from 'pino';
import type { SchedulerLike } from 'rxjs';
import type { GatewayBus } from '../core/events.js';
import { LogThrottle } from '../core/log-throttle.js';
import type { GatewayModule } from '../core/module.js';
import type { PlanogramIndex } from '../planogram/planogram.js';
import { facingKey } from '../planogram/planogram.js';
import type { SqliteDatabase } from '../storage/database.js';
import type { PendingWrites, WriteBehindWriter } from '../storage/write-behind.js';
import { FacingStateStore, type FacingSnapshot } from './facing-state-store.js';
import { stockRoutes } from './routes.js';
import { ShelfStockBook, toSnapshot } from './shelf-stock-book.js';
import { StockPipeline, type StockOutput, type StockPipelineOptions } from './stock-pipeline.js';

export type StockModuleDeps = {
  bus: GatewayBus;
  db: SqliteDatabase;
  writer: WriteBehindWriter;
  planogram: () => PlanogramIndex;
  options: StockPipelineOptions & { maxHistoryRows: number };
  scheduler: SchedulerLike;
  now: () => number;
  log: Logger;
  /** a weight reading for a facing that is not in the planogram (counted by the caller) */
  onUnknownFacing: () => void;
  /** a pipeline output its handler failed on (counted by the caller as an event handler error) */
  onHandlerError: (handler: string, error: unknown) => void;
};

/**
 * Stock on the shelves: shelf weights and kiosk sales from `device.message` → each facing's quantity and debounced
 * low/ok level, published as `stock.changed` and persisted (write-behind). Levels are state: restored at start.
 */
export class StockModule implements GatewayModule {
  readonly name = 'stock';
  private book: ShelfStockBook | undefined;
  private pipeline: StockPipeline | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly facingWrites: PendingWrites<FacingSnapshot>;
  private readonly store: FacingStateStore;
  private readonly unknownFacingLog: LogThrottle;

  constructor(private readonly deps: StockModuleDeps) {
    this.store = new FacingStateStore(deps.db);
    this.facingWrites = deps.writer.register(FacingStateStore.writes({ maxHistoryRows: deps.options.maxHistoryRows }));
    this.unknownFacingLog = new LogThrottle({ burst: 3, windowMs: 60_000, maxKeys: 1_000 }, deps.now);
  }

  /** Current stock of every facing (API, live stream); there is one once the module has started. */
  get stock(): ShelfStockBook {
    if (!this.book) throw new Error('stock is not started');
    return this.book;
  }

  get stockIfStarted(): ShelfStockBook | undefined {
    return this.book;
  }

  readonly routes = () => stockRoutes({ stock: () => this.stock });

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
        if (suppressed >= 0) this.deps.log.warn({ deviceId: shelfId, facing, suppressed }, 'weight for a facing not in the planogram dropped');
      },
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
    this.unsubscribe = this.deps.bus.on('device.message', 'stock-pipeline', (message) => pipeline.push(message));
    this.deps.log.info({ facings: planogram.planogram.facings.length }, 'stock pipeline started');
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.pipeline?.stop();
    this.pipeline = undefined;
  }

  private apply(output: StockOutput): void {
    const book = this.book as ShelfStockBook;
    const view = output.type === 'quantity' ? book.applyQuantity(output.quantity) : book.applySignal(output.signal);
    if (view) {
      const snapshot = toSnapshot(view);
      if (snapshot) this.facingWrites.put(facingKey(view.shelfId, view.facing), snapshot);
      this.deps.bus.emit('stock.changed', { view, cause: output.type === 'quantity' ? 'quantity' : 'level' });
    }
    if (output.type === 'signal') {
      const { signal } = output;
      const current = view ?? book.get(signal.shelfId, signal.facing);
      if (current) this.deps.bus.emit('stock.level', { view: current, level: signal.level, units: signal.units, at: signal.at });
    }
  }
}
