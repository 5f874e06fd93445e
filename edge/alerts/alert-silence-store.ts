import type { SqliteDatabase } from '../storage/database.js';
import type { WriteSet } from '../storage/write-behind.js';
import type { LowStockSilence } from './low-stock-policy.js';

/** A silence to write (`silencedAt`) or to lift (null), by alert key. */
export type SilenceWrite = { key: string; silencedAt: number | null };

/**
 * Write-behind set of low-stock silences (table alert_silences), written in the same transaction as the alert whose
 * resolution started them. Bounded by its keys: one per planogram facing at most.
 */
export const alertSilenceWrites: WriteSet<SilenceWrite> = {
  name: 'alert-silences',
  async write(tx, silences) {
    await tx.runMany(
      'INSERT INTO alert_silences (key, silenced_at) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET silenced_at = excluded.silenced_at',
      silences.filter((s) => s.silencedAt !== null).map((s) => [s.key, s.silencedAt]),
    );
    await tx.runMany(
      'DELETE FROM alert_silences WHERE key = ?',
      silences.filter((s) => s.silencedAt === null).map((s) => [s.key]),
    );
  },
};

/** Reads the silences at start; writes go through the write-behind writer (`alertSilenceWrites`). */
export class AlertSilenceStore {
  constructor(private readonly db: SqliteDatabase) {}

  async loadAll(): Promise<Map<string, LowStockSilence>> {
    const rows = await this.db.all<{ key: string; silenced_at: number }>('SELECT key, silenced_at FROM alert_silences');
    return new Map(rows.map((row) => [row.key, { silencedAt: row.silenced_at }]));
  }
}
