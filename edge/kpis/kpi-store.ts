/**
 * The KPI samples in SQLite (migration 012), so a restart keeps them. Every table is bounded: past its row limit the
 * oldest rows go (the newest samples are what a KPI window reads).
 */
import type { SqliteDatabase } from '../storage/database.js';
import type { CampaignOutcome, MismatchDay, ReplenishSample } from './kpi.js';

export type KpiLimits = { maxReplenishSamples: number; maxCampaigns: number; maxMismatchDays: number };

export const DEFAULT_KPI_LIMITS: KpiLimits = { maxReplenishSamples: 10_000, maxCampaigns: 1_000, maxMismatchDays: 400 };

export type KpiSamples = { replenish: ReplenishSample[]; campaigns: CampaignOutcome[]; mismatches: MismatchDay[] };

type ReplenishRow = { alert_id: string; shelf_id: string | null; facing: number | null; opened_at: number; resolved_at: number };
type CampaignRow = { campaign_id: string; confirmed: number; failed: number; updated_at: number };

export class KpiStore {
  constructor(
    private readonly db: SqliteDatabase,
    private readonly limits: KpiLimits = DEFAULT_KPI_LIMITS,
  ) {}

  /** The kept samples, oldest first, at most the limits. */
  async load(): Promise<KpiSamples> {
    const replenish = await this.db.all<ReplenishRow>(
      'SELECT * FROM (SELECT * FROM kpi_replenish ORDER BY resolved_at DESC LIMIT ?) ORDER BY resolved_at',
      [this.limits.maxReplenishSamples],
    );
    const campaigns = await this.db.all<CampaignRow>(
      'SELECT * FROM (SELECT * FROM kpi_campaigns ORDER BY updated_at DESC LIMIT ?) ORDER BY updated_at',
      [this.limits.maxCampaigns],
    );
    const mismatches = await this.db.all<MismatchDay>(
      'SELECT * FROM (SELECT day, count FROM kpi_mismatch_days ORDER BY day DESC LIMIT ?) ORDER BY day',
      [this.limits.maxMismatchDays],
    );
    return {
      replenish: replenish.map((row) => ({
        alertId: row.alert_id,
        openedAt: row.opened_at,
        resolvedAt: row.resolved_at,
        ...(row.shelf_id !== null ? { shelfId: row.shelf_id } : {}),
        ...(row.facing !== null ? { facing: row.facing } : {}),
      })),
      campaigns: campaigns.map((row) => ({
        campaignId: row.campaign_id,
        confirmed: row.confirmed,
        failed: row.failed,
        updatedAt: row.updated_at,
      })),
      mismatches: mismatches.map((row) => ({ day: row.day, count: row.count })),
    };
  }

  async addReplenish(sample: ReplenishSample): Promise<void> {
    await this.db.run('INSERT OR IGNORE INTO kpi_replenish (alert_id, shelf_id, facing, opened_at, resolved_at) VALUES (?, ?, ?, ?, ?)', [
      sample.alertId,
      sample.shelfId ?? null,
      sample.facing ?? null,
      sample.openedAt,
      sample.resolvedAt,
    ]);
    await this.db.run(
      'DELETE FROM kpi_replenish WHERE alert_id NOT IN (SELECT alert_id FROM kpi_replenish ORDER BY resolved_at DESC LIMIT ?)',
      [this.limits.maxReplenishSamples],
    );
  }

  async putCampaign(outcome: CampaignOutcome): Promise<void> {
    await this.db.run(
      `INSERT INTO kpi_campaigns (campaign_id, confirmed, failed, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (campaign_id) DO UPDATE SET
         confirmed = excluded.confirmed, failed = excluded.failed, updated_at = excluded.updated_at`,
      [outcome.campaignId, outcome.confirmed, outcome.failed, outcome.updatedAt],
    );
    await this.db.run(
      'DELETE FROM kpi_campaigns WHERE campaign_id NOT IN (SELECT campaign_id FROM kpi_campaigns ORDER BY updated_at DESC LIMIT ?)',
      [this.limits.maxCampaigns],
    );
  }

  async putMismatchDay(day: MismatchDay): Promise<void> {
    await this.db.run('INSERT INTO kpi_mismatch_days (day, count) VALUES (?, ?) ON CONFLICT (day) DO UPDATE SET count = excluded.count', [
      day.day,
      day.count,
    ]);
    await this.db.run('DELETE FROM kpi_mismatch_days WHERE day NOT IN (SELECT day FROM kpi_mismatch_days ORDER BY day DESC LIMIT ?)', [
      this.limits.maxMismatchDays,
    ]);
  }
}
