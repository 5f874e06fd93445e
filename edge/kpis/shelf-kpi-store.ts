/**
 * The shelf KPIs' samples in SQLite (migration 017), so a restart keeps them. Every table is bounded: past its row
 * limit the oldest rows go (a KPI window reads the newest); watched facings are bounded by the planogram, and past
 * their limit a new facing is not watched (the module counts it).
 */
import type { SqliteDatabase } from '../storage/database.js';
import type { PredictionSample, ShelfKpiSamples, StockAlertSample, StockOutSample, WatchedFacing } from './shelf-kpis.js';

export type ShelfKpiLimits = { maxWatchedFacings: number; maxStockOuts: number; maxStockAlerts: number; maxPredictions: number };

/** About 100 days of a 500-facing store emptying each facing once a day, and as many alerts. */
export const DEFAULT_SHELF_KPI_LIMITS: ShelfKpiLimits = {
  maxWatchedFacings: 10_000,
  maxStockOuts: 50_000,
  maxStockAlerts: 50_000,
  maxPredictions: 50_000,
};

type StockOutRow = { shelf_id: string; facing: number; started_at: number; ended_at: number | null };
type StockAlertRow = { alert_id: string; opened_at: number; resolved_at: number | null; restocked: number };
type PredictionRow = { alert_id: string; shelf_id: string; facing: number; opened_at: number; resolved_at: number | null };

export class ShelfKpiStore {
  constructor(
    private readonly db: SqliteDatabase,
    private readonly limits: ShelfKpiLimits = DEFAULT_SHELF_KPI_LIMITS,
  ) {}

  /** The kept samples, oldest first, at most the limits. */
  async load(): Promise<ShelfKpiSamples> {
    const { maxWatchedFacings, maxStockOuts, maxStockAlerts, maxPredictions } = this.limits;
    const watched = await this.db.all<{ shelf_id: string; facing: number; since: number }>(
      'SELECT shelf_id, facing, since FROM kpi_watched_facings ORDER BY since LIMIT ?',
      [maxWatchedFacings],
    );
    const stockOuts = await this.db.all<StockOutRow>(
      'SELECT * FROM (SELECT * FROM kpi_stock_outs ORDER BY started_at DESC LIMIT ?) ORDER BY started_at',
      [maxStockOuts],
    );
    const stockAlerts = await this.db.all<StockAlertRow>(
      'SELECT * FROM (SELECT * FROM kpi_stock_alerts ORDER BY opened_at DESC LIMIT ?) ORDER BY opened_at',
      [maxStockAlerts],
    );
    const predictions = await this.db.all<PredictionRow>(
      'SELECT * FROM (SELECT * FROM kpi_predictions ORDER BY opened_at DESC LIMIT ?) ORDER BY opened_at',
      [maxPredictions],
    );
    return {
      watched: watched.map((row) => ({ shelfId: row.shelf_id, facing: row.facing, since: row.since })),
      stockOuts: stockOuts.map((row) => ({
        shelfId: row.shelf_id,
        facing: row.facing,
        startedAt: row.started_at,
        ...(row.ended_at !== null ? { endedAt: row.ended_at } : {}),
      })),
      stockAlerts: stockAlerts.map((row) => ({
        alertId: row.alert_id,
        openedAt: row.opened_at,
        restocked: row.restocked === 1,
        ...(row.resolved_at !== null ? { resolvedAt: row.resolved_at } : {}),
      })),
      predictions: predictions.map((row) => ({
        alertId: row.alert_id,
        shelfId: row.shelf_id,
        facing: row.facing,
        openedAt: row.opened_at,
        ...(row.resolved_at !== null ? { resolvedAt: row.resolved_at } : {}),
      })),
    };
  }

  async addWatched(facing: WatchedFacing): Promise<void> {
    await this.db.run('INSERT OR IGNORE INTO kpi_watched_facings (shelf_id, facing, since) VALUES (?, ?, ?)', [
      facing.shelfId,
      facing.facing,
      facing.since,
    ]);
  }

  /** A stock-out that began, or the same one ended (the row is found by its facing and start). */
  async putStockOut(sample: StockOutSample): Promise<void> {
    await this.db.run(
      `INSERT INTO kpi_stock_outs (shelf_id, facing, started_at, ended_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (shelf_id, facing, started_at) DO UPDATE SET ended_at = excluded.ended_at`,
      [sample.shelfId, sample.facing, sample.startedAt, sample.endedAt ?? null],
    );
    await this.prune('kpi_stock_outs', 'started_at', this.limits.maxStockOuts);
  }

  async putStockAlert(sample: StockAlertSample): Promise<void> {
    await this.db.run(
      `INSERT INTO kpi_stock_alerts (alert_id, opened_at, resolved_at, restocked) VALUES (?, ?, ?, ?)
       ON CONFLICT (alert_id) DO UPDATE SET resolved_at = excluded.resolved_at, restocked = excluded.restocked`,
      [sample.alertId, sample.openedAt, sample.resolvedAt ?? null, sample.restocked ? 1 : 0],
    );
    await this.prune('kpi_stock_alerts', 'opened_at', this.limits.maxStockAlerts);
  }

  async putPrediction(sample: PredictionSample): Promise<void> {
    await this.db.run(
      `INSERT INTO kpi_predictions (alert_id, shelf_id, facing, opened_at, resolved_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (alert_id) DO UPDATE SET resolved_at = excluded.resolved_at`,
      [sample.alertId, sample.shelfId, sample.facing, sample.openedAt, sample.resolvedAt ?? null],
    );
    await this.prune('kpi_predictions', 'opened_at', this.limits.maxPredictions);
  }

  /** Drops the rows older than the newest `max` (through the time column's index: no scan of the table). */
  private async prune(table: string, column: string, max: number): Promise<void> {
    await this.db.run(`DELETE FROM ${table} WHERE ${column} < (SELECT ${column} FROM ${table} ORDER BY ${column} DESC LIMIT 1 OFFSET ?)`, [
      max - 1,
    ]);
  }
}
