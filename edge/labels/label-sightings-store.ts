/**
 * What the labels room last heard of each label, kept across restarts: the driver that carried it, when it was seen,
 * its battery, the price it showed. The room marks sightings dirty as drivers report and writes them per flush in one
 * statement per 20,000 labels (a check-in storm of thousands of labels is one write, not thousands).
 */
import type { SqliteDatabase } from '../storage/database.js';
import type { LabelSighting } from './label-health.js';

type SightingRow = {
  label_id: string;
  driver_id: string | null;
  tracked_since: number;
  last_seen_at: number | null;
  battery_mv: number | null;
  displayed_price_cents: number | null;
};

/** rows per statement (each statement is its own implicit transaction; a bigger write is several) */
const CHUNK = 20_000;

export class LabelSightingStore {
  constructor(private readonly db: SqliteDatabase) {}

  /**
   * Forgets the labels not seen since `before` (never seen: not tracked since then) that are not in `keep` — a label
   * that left the store; the bound ones keep their row. Returns how many were forgotten.
   */
  async prune(before: number, keep: readonly string[]): Promise<number> {
    const { changes } = await this.db.run(
      'DELETE FROM label_sightings WHERE coalesce(last_seen_at, tracked_since) < ? AND label_id NOT IN (SELECT value FROM json_each(?))',
      [before, JSON.stringify(keep)],
    );
    return changes;
  }

  /** The most recently seen `limit` labels. */
  async loadAll(limit: number): Promise<LabelSighting[]> {
    const rows = await this.db.all<SightingRow>(
      `SELECT label_id, driver_id, tracked_since, last_seen_at, battery_mv, displayed_price_cents
       FROM label_sightings ORDER BY last_seen_at DESC LIMIT ?`,
      [limit],
    );
    return rows.map(sightingOf);
  }

  /**
   * Writes these sightings (insert or update) in one statement: the rows go as one JSON array that SQLite unpacks
   * (json_each) on its own thread — a prepared statement run per row costs the event loop a native call and a
   * callback per row, which a 50,000-label campaign's confirmations would pay every second.
   */
  async save(sightings: readonly LabelSighting[]): Promise<void> {
    for (let start = 0; start < sightings.length; start += CHUNK) {
      const rows = sightings
        .slice(start, start + CHUNK)
        .map((s) => [s.labelId, s.driverId ?? null, s.trackedSince, s.lastSeenAt ?? null, s.batteryMv, s.displayedPriceCents ?? null]);
      await this.db.run(
        `INSERT INTO label_sightings (label_id, driver_id, tracked_since, last_seen_at, battery_mv, displayed_price_cents)
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5 FROM json_each(?) WHERE true
         ON CONFLICT (label_id) DO UPDATE SET
           driver_id = excluded.driver_id, tracked_since = excluded.tracked_since, last_seen_at = excluded.last_seen_at,
           battery_mv = excluded.battery_mv, displayed_price_cents = excluded.displayed_price_cents`,
        [JSON.stringify(rows)],
      );
    }
  }
}

function sightingOf(row: SightingRow): LabelSighting {
  return {
    labelId: row.label_id,
    ...(row.driver_id === null ? {} : { driverId: row.driver_id }),
    trackedSince: row.tracked_since,
    ...(row.last_seen_at === null ? {} : { lastSeenAt: row.last_seen_at }),
    batteryMv: row.battery_mv,
    ...(row.displayed_price_cents === null ? {} : { displayedPriceCents: row.displayed_price_cents }),
  };
}
