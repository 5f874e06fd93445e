import type { SqliteDatabase } from '../storage/database.js';
import type { WriteSet } from '../storage/write-behind.js';
import type { StockLevel, StockSource } from './stock.js';

/** What is persisted of a facing: its last quantity and its debounced level (state, restored at start). */
export type FacingSnapshot = {
  shelfId: string;
  facing: number;
  units: number;
  weightG: number | null;
  source: StockSource;
  level: StockLevel;
  updatedAt: number;
};

type FacingStateRow = {
  shelf_id: string;
  facing: number;
  units: number;
  weight_g: number | null;
  source: StockSource;
  level: StockLevel;
  updated_at: number;
};

/** shelf_history is pruned to maxHistoryRows once this many rows were added since the last prune. */
const PRUNE_EVERY_ROWS = 2_000;

/** Last known state of every facing, so that a restarted gateway shows stock and levels before the first new reading. */
export class FacingStateStore {
  constructor(private readonly db: SqliteDatabase) {}

  async loadAll(): Promise<FacingSnapshot[]> {
    const rows = await this.db.all<FacingStateRow>('SELECT * FROM facing_state');
    return rows.map((row) => ({
      shelfId: row.shelf_id,
      facing: row.facing,
      units: row.units,
      weightG: row.weight_g,
      source: row.source,
      level: row.level,
      updatedAt: row.updated_at,
    }));
  }

  /** Retention: raw readings older than `cutoff` leave shelf_history; returns how many. */
  async purgeHistoryBefore(cutoff: number): Promise<number> {
    return (await this.db.run('DELETE FROM shelf_history WHERE ts < ?', [cutoff])).changes;
  }

  /** Write-behind set: the facing's state, and one history sample per changed facing and flush. */
  static writes(options: { maxHistoryRows: number }): WriteSet<FacingSnapshot> {
    let rowsSincePrune = 0;
    return {
      name: 'facing-state',
      async write(tx, rows) {
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
        rowsSincePrune += rows.length;
        if (rowsSincePrune >= PRUNE_EVERY_ROWS) {
          await tx.run('DELETE FROM shelf_history WHERE id <= (SELECT max(id) FROM shelf_history) - ?', [options.maxHistoryRows]);
          rowsSincePrune = 0;
        }
      },
    };
  }
}
