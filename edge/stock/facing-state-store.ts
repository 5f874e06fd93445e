import type { SqliteDatabase } from '../storage/database.js';
import type { FacingSnapshot } from '../storage/state-writer.js';

type FacingStateRow = {
  shelf_id: string;
  facing: number;
  units: number;
  weight_g: number | null;
  source: FacingSnapshot['source'];
  level: FacingSnapshot['level'];
  updated_at: number;
};

/** Last known state of every facing, so that a restarted gateway shows stock before the first new reading. */
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
}
