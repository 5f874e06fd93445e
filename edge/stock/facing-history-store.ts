import type { SqliteDatabase } from '../storage/database.js';
import type { WriteSet } from '../storage/write-behind.js';
import { historyMinute, type FacingHistoryRow, type HistoryPoint } from './facing-history.js';

/** Rows one prune statement deletes: short enough that a flush waiting behind it is not held up noticeably. */
const PRUNE_BATCH_ROWS = 2_000;
/** Statements one prune pass runs at most (2,000 facings changing every minute for a day are ~3 M rows: a few passes). */
const PRUNE_MAX_BATCHES = 50;

/** A facing's units in a window: the last point before it (what the facing held as it began) and the points in it. */
export type HistoryWindow = { before: HistoryPoint | undefined; points: HistoryPoint[] };

/** facing_history in SQLite: written behind (one row per facing and minute), read for charts, pruned by age. */
export class FacingHistoryStore {
  constructor(private readonly db: SqliteDatabase) {}

  /** Write-behind set: upserts, so a second flush within one minute replaces that minute's row. */
  static writes(): WriteSet<FacingHistoryRow> {
    return {
      name: 'facing-history',
      async write(tx, rows) {
        await tx.runMany(
          `INSERT INTO facing_history (shelf_id, facing, minute, at, units) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (shelf_id, facing, minute) DO UPDATE SET at = excluded.at, units = excluded.units`,
          rows.map((r) => [r.shelfId, r.facing, r.minute, r.at, r.units]),
        );
      },
      // a chart with a gap is the cheapest thing to give up while the disk refuses writes
      evictable: () => true,
    };
  }

  /** The facing's points from `from` to `to` (committed rows; at most one per minute, so ≤ 20,160 for 14 days). */
  async window(shelfId: string, facing: number, from: number, to: number): Promise<HistoryWindow> {
    const before = await this.db.get<HistoryPoint>(
      `SELECT at, units FROM facing_history WHERE shelf_id = ? AND facing = ? AND minute < ? ORDER BY minute DESC LIMIT 1`,
      [shelfId, facing, historyMinute(from)],
    );
    const points = await this.db.all<HistoryPoint>(
      `SELECT at, units FROM facing_history WHERE shelf_id = ? AND facing = ? AND minute >= ? AND minute <= ? ORDER BY minute`,
      [shelfId, facing, historyMinute(from), historyMinute(to)],
    );
    return { before, points };
  }

  /**
   * Deletes the rows recorded before `cutoff`, in batches of PRUNE_BATCH_ROWS and at most PRUNE_MAX_BATCHES of them
   * per call (the next pass takes the rest), so no single statement holds the writer for long. Returns how many.
   */
  async pruneBefore(cutoff: number): Promise<number> {
    const minute = historyMinute(cutoff);
    let removed = 0;
    for (let batch = 0; batch < PRUNE_MAX_BATCHES; batch += 1) {
      const { changes } = await this.db.run(
        `DELETE FROM facing_history WHERE (shelf_id, facing, minute) IN
           (SELECT shelf_id, facing, minute FROM facing_history WHERE minute < ? LIMIT ?)`,
        [minute, PRUNE_BATCH_ROWS],
      );
      removed += changes;
      if (changes < PRUNE_BATCH_ROWS) break;
    }
    return removed;
  }
}
