/**
 * The KPIs room: follows `alert.changed` (low-stock alerts resolved by a restock, price mismatches opened) and
 * `campaign.progress` (labels confirmed or failed), keeps the samples in memory (bounded) and in SQLite (kpi-store.ts)
 * so a restart keeps them, and answers `GET /api/kpis` from them (kpi.ts computes the numbers).
 */
import type { Logger } from 'pino';
import type { GatewayBus } from '../core/events.js';
import type { GatewayModule, HealthCheck } from '../core/module.js';
import type { AccessGuard } from '../http/auth.js';
import type { SqliteDatabase } from '../storage/database.js';
import { computeKpis, opensPriceMismatch, replenishSampleOf, utcDay, type Kpis } from './kpi.js';
import { DEFAULT_KPI_LIMITS, KpiStore, type KpiLimits, type KpiSamples } from './kpi-store.js';
import { kpiRoutes } from './routes.js';

declare module '../core/module.js' {
  interface GatewayServices {
    kpis: KpisModule;
  }
}

export type KpisModuleDeps = { bus: GatewayBus; db: SqliteDatabase; now: () => number; log: Logger; limits?: Partial<KpiLimits> };

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

  constructor(private readonly deps: KpisModuleDeps) {
    this.limits = { ...DEFAULT_KPI_LIMITS, ...deps.limits };
    this.store = new KpiStore(deps.db, this.limits);
  }

  async start(): Promise<void> {
    this.samples = await this.store.load();
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
    return { ok: this.lastWriteError === undefined, ...this.counters, ...(this.lastWriteError ? { error: this.lastWriteError } : {}) };
  }

  routes(guard: AccessGuard) {
    return kpiRoutes({ kpis: (windowMs) => this.kpis(windowMs), guard });
  }

  kpis(windowMs: number): Kpis {
    return computeKpis(this.samples, windowMs, this.deps.now());
  }

  /** Resolves once every sample seen so far is written (tests, and stop()). */
  flushed(): Promise<void> {
    return this.writes;
  }

  private mismatchOpened(at: number): void {
    this.counters.mismatches += 1;
    const day = utcDay(at);
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

/** Appends, dropping the oldest past `max`. */
function pushBounded<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}
