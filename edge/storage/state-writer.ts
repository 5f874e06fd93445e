import type { Logger } from 'pino';
import { isActive, type Alert } from '../alerts/alerts.js';
import type { StockLevel, StockSource } from '../stock/stock.js';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { UPSERT_ALERT_SQL, alertToRow } from '../alerts/alert-store.js';
import type { SqliteDatabase } from './database.js';
import { UPDATE_LAST_SEEN_SQL } from '../devices/device-store.js';

export type FacingSnapshot = {
  shelfId: string;
  facing: number;
  units: number;
  weightG: number | null;
  source: StockSource;
  level: StockLevel;
  updatedAt: number;
};

export type StorageHealth = { ok: boolean; error?: string; pendingWrites: number; lastFlushAt: number | null };

export type StateWriterOptions = { flushIntervalMs: number; maxHistoryRows: number; maxPendingWrites: number };

const PRUNE_EVERY_ROWS = 2_000;

/**
 * Write-behind for everything the gateway persists while it runs: alert changes, facing state and one history
 * sample per changed facing, device last-seen times. Changes are coalesced in memory (latest per key wins) and
 * written every `flushIntervalMs` in one transaction — never one row per reading. When the disk refuses (full,
 * read-only), the changes stay pending and are retried; the live path keeps running and health reports the error.
 */
export class StateWriter {
  private pendingAlerts = new Map<string, Alert>();
  private pendingFacings = new Map<string, FacingSnapshot>();
  private pendingSeen = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private lastError: string | undefined;
  private lastFlushAt: number | null = null;
  private rowsSincePrune = 0;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly options: StateWriterOptions,
    private readonly metrics: GatewayMetrics,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.options.flushIntervalMs);
    this.timer.unref();
  }

  /** Stops the timer and writes what is pending; the caller closes the database afterwards. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  saveAlert(alert: Alert): void {
    this.pendingAlerts.delete(alert.id);
    this.pendingAlerts.set(alert.id, alert);
    if (this.pendingAlerts.size > this.options.maxPendingWrites) this.dropOldestResolvedAlert();
    this.updatePendingGauge();
  }

  saveFacing(snapshot: FacingSnapshot): void {
    this.pendingFacings.set(`${snapshot.shelfId}/${snapshot.facing}`, snapshot);
    this.updatePendingGauge();
  }

  deviceSeen(deviceId: string, at: number): void {
    this.pendingSeen.set(deviceId, at);
    this.updatePendingGauge();
  }

  health(): StorageHealth {
    const health: StorageHealth = { ok: this.lastError === undefined, pendingWrites: this.pendingCount(), lastFlushAt: this.lastFlushAt };
    if (this.lastError !== undefined) health.error = this.lastError;
    return health;
  }

  /** Writes everything pending in one transaction. Concurrent calls share the flush under way. */
  flush(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    if (this.pendingCount() === 0 || !this.db.isOpen) return Promise.resolve();
    this.inFlight = this.writeBatch().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async writeBatch(): Promise<void> {
    const alerts = this.pendingAlerts;
    const facings = this.pendingFacings;
    const seen = this.pendingSeen;
    this.pendingAlerts = new Map();
    this.pendingFacings = new Map();
    this.pendingSeen = new Map();
    const endTimer = this.metrics.storageFlushSeconds.startTimer();
    try {
      await this.db.transaction(async (tx) => {
        const alertRows = [...alerts.values()];
        // The database allows one active alert per key. If an older alert's resolution was given up while the disk
        // was refusing writes, its row is still active: the newer alert supersedes it instead of failing every flush.
        await tx.runMany(
          "UPDATE alerts SET state = 'resolved', resolution = 'superseded', resolved_at = ?, updated_at = ? WHERE key = ? AND id <> ? AND state <> 'resolved'",
          alertRows.filter(isActive).map((a) => [a.updatedAt, a.updatedAt, a.key, a.id]),
        );
        await tx.runMany(UPSERT_ALERT_SQL, alertRows.map(alertToRow));
        const rows = [...facings.values()];
        await tx.runMany(
          `INSERT INTO facing_state (shelf_id, facing, units, weight_g, source, level, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (shelf_id, facing) DO UPDATE SET units = excluded.units, weight_g = excluded.weight_g,
           source = excluded.source, level = excluded.level, updated_at = excluded.updated_at`,
          rows.map((f) => [f.shelfId, f.facing, f.units, f.weightG, f.source, f.level, f.updatedAt]),
        );
        await tx.runMany(
          'INSERT INTO shelf_history (shelf_id, facing, ts, weight_g, units) VALUES (?, ?, ?, ?, ?)',
          rows.map((f) => [f.shelfId, f.facing, f.updatedAt, f.weightG, f.units]),
        );
        await tx.runMany(UPDATE_LAST_SEEN_SQL, [...seen].map(([id, at]) => [at, id]));
        this.rowsSincePrune += rows.length;
        if (this.rowsSincePrune >= PRUNE_EVERY_ROWS) {
          await tx.run('DELETE FROM shelf_history WHERE id <= (SELECT max(id) FROM shelf_history) - ?', [this.options.maxHistoryRows]);
          this.rowsSincePrune = 0;
        }
      });
      this.lastFlushAt = Date.now();
      if (this.lastError !== undefined) this.log.info({ pendingWrites: this.pendingCount() }, 'storage writes succeed again');
      this.lastError = undefined;
    } catch (error) {
      this.metrics.storageWriteErrors.inc();
      const message = (error as Error).message;
      if (this.lastError !== message) this.log.error({ err: error }, 'storage write failed; changes kept in memory and retried');
      this.lastError = message;
      this.requeue(alerts, facings, seen);
    } finally {
      endTimer();
      this.updatePendingGauge();
    }
  }

  /** Puts a failed batch back under whatever changed since: newer changes of the same key win. */
  private requeue(alerts: Map<string, Alert>, facings: Map<string, FacingSnapshot>, seen: Map<string, number>): void {
    for (const [id, alert] of this.pendingAlerts) alerts.set(id, alert);
    for (const [key, facing] of this.pendingFacings) facings.set(key, facing);
    for (const [id, at] of this.pendingSeen) seen.set(id, at);
    this.pendingAlerts = alerts;
    this.pendingFacings = facings;
    this.pendingSeen = seen;
    while (this.pendingAlerts.size > this.options.maxPendingWrites && this.dropOldestResolvedAlert());
  }

  /** Past the bound, the oldest resolved alert's final state is given up (active alerts are bounded by their keys). */
  private dropOldestResolvedAlert(): boolean {
    for (const [id, alert] of this.pendingAlerts) {
      if (alert.state === 'resolved') {
        this.pendingAlerts.delete(id);
        this.metrics.storageDroppedWrites.inc();
        return true;
      }
    }
    return false;
  }

  private pendingCount(): number {
    return this.pendingAlerts.size + this.pendingFacings.size + this.pendingSeen.size;
  }

  private updatePendingGauge(): void {
    this.metrics.storagePendingWrites.set(this.pendingCount());
  }
}
