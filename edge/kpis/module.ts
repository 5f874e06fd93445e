/**
 * The KPIs room: follows `alert.changed` (low-stock alerts resolved by a restock, price mismatches opened) and
 * `campaign.progress` (labels confirmed or failed), keeps the samples in memory (bounded) and in SQLite (kpi-store.ts)
 * so a restart keeps them, and answers `GET /api/kpis` from them (kpi.ts computes the numbers). The shelf KPIs
 * (shelf-kpis.ts: on-shelf availability, stock-outs, replenishment accuracy, prediction lead time) follow
 * `stock.changed` and the low-stock and stock-out-predicted alerts the same way (shelf-kpi-store.ts).
 */
import type { Logger } from 'pino';
import type { GatewayBus } from '../core/events.js';
import type { GatewayModule, HealthCheck } from '../core/module.js';
import type { AccessGuard } from '../http/auth.js';
import type { SqliteDatabase } from '../storage/database.js';
import { storeDays, type StoreDays } from './store-days.js';
import { computeKpis, opensPriceMismatch, replenishSampleOf, type Kpis } from './kpi.js';
import { DEFAULT_KPI_LIMITS, KpiStore, type KpiLimits, type KpiSamples } from './kpi-store.js';
import { DEFAULT_SHELF_KPI_LIMITS, ShelfKpiStore, type ShelfKpiLimits } from './shelf-kpi-store.js';
import {
  computeShelfKpis,
  facingKeyOf,
  predictionSampleOf,
  stockAlertSampleOf,
  stockOutChange,
  type PredictionSample,
  type ShelfKpiSamples,
  type ShelfKpis,
  type StockAlertSample,
  type StockOutSample,
} from './shelf-kpis.js';
import { DEFAULT_REPLENISH_TARGET_MINUTES } from './kpis-config.js';
import { kpiRoutes } from './routes.js';

declare module '../core/module.js' {
  interface GatewayServices {
    kpis: KpisModule;
  }
}

export type KpisModuleDeps = {
  bus: GatewayBus;
  db: SqliteDatabase;
  now: () => number;
  log: Logger;
  /**
   * The store's time zone (IANA): a KPI day runs from midnight to midnight there. Price mismatch counts written before
   * a change of zone (or before days were the store's: UTC until 2026-12) keep the day name they were counted under.
   */
  timeZone: string;
  limits?: Partial<KpiLimits>;
  /** the replenishment accuracy's target (kpis.replenishTargetMinutes), ms; 30 min when absent */
  replenishTargetMs?: number;
  shelfLimits?: Partial<ShelfKpiLimits>;
  /**
   * Every facing's units as the stock room holds them at start (restored ones send no stock.changed until they move):
   * a facing known then is watched from then on, one empty then is a stock-out. Absent: only changes are followed.
   */
  facings?: () => Iterable<{ shelfId: string; facing: number; units: number | null }>;
};

export class KpisModule implements GatewayModule {
  readonly name = 'kpis';
  readonly counters = { replenishSamples: 0, campaignReports: 0, mismatches: 0, writeFailures: 0 };
  private readonly store: KpiStore;
  private readonly limits: KpiLimits;
  private samples: KpiSamples = { replenish: [], campaigns: [], mismatches: [] };
  private unsubscribes: Array<() => void> = [];
  /** writes run one after another, in the order the events came; stop() waits for the last */
  private writes: Promise<void> = Promise.resolve();
  private lastWriteError: string | undefined;
  /** the shelf KPIs (shelf-kpis.ts): their samples, and what the bus handlers need to follow them */
  readonly shelfCounters = { stockOutsBegan: 0, stockOutsEnded: 0, stockAlertSamples: 0, predictionSamples: 0, facingChangesOverLimit: 0 };
  private readonly shelfStore: ShelfKpiStore;
  private readonly shelfLimits: ShelfKpiLimits;
  private shelf: ShelfKpiSamples = { watched: [], stockOuts: [], stockAlerts: [], predictions: [] };
  /** bounded by maxWatchedFacings; a stock-out is followed only on a watched facing, so openStockOuts is too */
  private readonly watchedFacings = new Set<string>();
  private readonly openStockOuts = new Map<string, StockOutSample>();
  private readonly days: StoreDays;

  constructor(private readonly deps: KpisModuleDeps) {
    this.limits = { ...DEFAULT_KPI_LIMITS, ...deps.limits };
    this.days = storeDays(deps.timeZone);
    this.store = new KpiStore(deps.db, this.limits);
    this.shelfLimits = { ...DEFAULT_SHELF_KPI_LIMITS, ...deps.shelfLimits };
    this.shelfStore = new ShelfKpiStore(deps.db, this.shelfLimits);
  }

  async start(): Promise<void> {
    this.samples = await this.store.load();
    await this.loadShelf();
    for (const facing of this.deps.facings?.() ?? []) this.facingUnits(facing.shelfId, facing.facing, facing.units);
    this.unsubscribes.push(...this.followShelf());
    this.unsubscribes.push(
      this.deps.bus.on('alert.changed', 'kpis:alerts', ({ alert, previous }) => {
        const sample = replenishSampleOf(alert, previous);
        if (sample) {
          this.counters.replenishSamples += 1;
          pushBounded(this.samples.replenish, sample, this.limits.maxReplenishSamples);
          this.write(() => this.store.addReplenish(sample));
        }
        if (opensPriceMismatch(alert, previous)) this.mismatchOpened(alert.openedAt);
      }),
      this.deps.bus.on('campaign.progress', 'kpis:campaigns', (progress) => {
        this.counters.campaignReports += 1;
        const outcome = {
          campaignId: progress.campaignId,
          confirmed: progress.counts.confirmed,
          failed: progress.counts.failed,
          updatedAt: this.deps.now(),
        };
        const campaigns = this.samples.campaigns;
        const index = campaigns.findIndex((known) => known.campaignId === outcome.campaignId);
        if (index >= 0) campaigns.splice(index, 1);
        pushBounded(campaigns, outcome, this.limits.maxCampaigns);
        this.write(() => this.store.putCampaign(outcome));
      }),
    );
  }

  async stop(): Promise<void> {
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
    await this.writes;
  }

  health(): HealthCheck {
    return {
      ok: this.lastWriteError === undefined,
      ...this.counters,
      ...this.shelfCounters,
      ...(this.lastWriteError ? { error: this.lastWriteError } : {}),
    };
  }

  routes(guard: AccessGuard) {
    return kpiRoutes({ kpis: (windowMs) => this.kpis(windowMs), guard });
  }

  kpis(windowMs: number): Kpis & ShelfKpis {
    const now = this.deps.now();
    const replenishTargetMs = this.deps.replenishTargetMs ?? DEFAULT_REPLENISH_TARGET_MS;
    return {
      ...computeKpis(this.samples, windowMs, now, this.days),
      ...computeShelfKpis(this.shelf, replenishTargetMs, windowMs, now, this.days),
    };
  }

  /** Resolves once every sample seen so far is written (tests, and stop()). */
  flushed(): Promise<void> {
    return this.writes;
  }

  private async loadShelf(): Promise<void> {
    this.shelf = await this.shelfStore.load();
    for (const facing of this.shelf.watched) this.watchedFacings.add(facingKeyOf(facing.shelfId, facing.facing));
    // still empty when the gateway stopped: the stock-out goes on until a reading shows the facing restocked
    for (const out of this.shelf.stockOuts)
      if (out.endedAt === undefined) this.openStockOuts.set(facingKeyOf(out.shelfId, out.facing), out);
  }

  /** Stock-outs from the facings' units (either source: what staff see), alert samples from low-stock and predictions. */
  private followShelf(): Array<() => void> {
    return [
      this.deps.bus.on('stock.changed', 'kpis:stock-outs', ({ view }) => this.facingUnits(view.shelfId, view.facing, view.units)),
      this.deps.bus.on('alert.changed', 'kpis:shelf-alerts', ({ alert, previous }) => {
        const stockAlert = stockAlertSampleOf(alert, previous);
        if (stockAlert) this.stockAlertChanged(stockAlert);
        const prediction = predictionSampleOf(alert, previous);
        if (prediction) this.predictionChanged(prediction);
      }),
    ];
  }

  private facingUnits(shelfId: string, facing: number, units: number | null): void {
    if (units === null) return;
    const key = facingKeyOf(shelfId, facing);
    const at = this.deps.now();
    if (!this.watchedFacings.has(key)) {
      if (this.watchedFacings.size >= this.shelfLimits.maxWatchedFacings) {
        this.shelfCounters.facingChangesOverLimit += 1;
        return;
      }
      this.watchedFacings.add(key);
      const watched = { shelfId, facing, since: at };
      this.shelf.watched.push(watched);
      this.write(() => this.shelfStore.addWatched(watched));
    }
    const open = this.openStockOuts.get(key);
    const change = stockOutChange(open, units);
    if (change === 'began') {
      const sample: StockOutSample = { shelfId, facing, startedAt: at };
      this.shelfCounters.stockOutsBegan += 1;
      this.openStockOuts.set(key, sample);
      pushBounded(this.shelf.stockOuts, sample, this.shelfLimits.maxStockOuts);
      this.write(() => this.shelfStore.putStockOut({ ...sample }));
    } else if (change === 'ended' && open) {
      this.shelfCounters.stockOutsEnded += 1;
      this.openStockOuts.delete(key);
      // the sample in the list (the KPIs read it) ends too
      open.endedAt = at;
      this.write(() => this.shelfStore.putStockOut({ ...open }));
    }
  }

  private stockAlertChanged(sample: StockAlertSample): void {
    this.shelfCounters.stockAlertSamples += 1;
    replaceOrPush(this.shelf.stockAlerts, sample, this.shelfLimits.maxStockAlerts);
    this.write(() => this.shelfStore.putStockAlert(sample));
  }

  private predictionChanged(sample: PredictionSample): void {
    this.shelfCounters.predictionSamples += 1;
    replaceOrPush(this.shelf.predictions, sample, this.shelfLimits.maxPredictions);
    this.write(() => this.shelfStore.putPrediction(sample));
  }

  private mismatchOpened(at: number): void {
    this.counters.mismatches += 1;
    const day = this.days.dayOf(at);
    const days = this.samples.mismatches;
    let entry = days.find((known) => known.day === day);
    if (!entry) {
      entry = { day, count: 0 };
      pushBounded(days, entry, this.limits.maxMismatchDays);
      days.sort((a, b) => a.day.localeCompare(b.day));
    }
    entry.count += 1;
    const snapshot = { ...entry };
    this.write(() => this.store.putMismatchDay(snapshot));
  }

  private write(work: () => Promise<void>): void {
    this.writes = this.writes.then(work).then(
      () => {
        this.lastWriteError = undefined;
      },
      (error: unknown) => {
        // the sample stays in memory (the API still shows it); only a restart before the next write loses it
        this.counters.writeFailures += 1;
        this.lastWriteError = (error as Error).message;
        this.deps.log.error({ err: error }, 'kpi sample not written');
      },
    );
  }
}

/** The replenishment accuracy's target when the deps give none: the schema's default (kpis.replenishTargetMinutes). */
const DEFAULT_REPLENISH_TARGET_MS = DEFAULT_REPLENISH_TARGET_MINUTES * 60_000;

/**
 * The alert's sample replaces its earlier one (a resolution after the opening: looked for from the end, where the
 * recent alerts are), or is appended (dropping the oldest past `max`) when there was none (opened before the module).
 */
function replaceOrPush<T extends { alertId: string }>(list: T[], sample: T, max: number): void {
  for (let index = list.length - 1; index >= 0; index--) {
    if ((list[index] as T).alertId !== sample.alertId) continue;
    list[index] = sample;
    return;
  }
  pushBounded(list, sample, max);
}

/** Appends, dropping the oldest past `max`. */
function pushBounded<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}
