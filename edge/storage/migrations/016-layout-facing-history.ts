export const name = 'layout-facing-history';

/**
 * The planogram's optional `layout` (aisles in walking order, the place of each shelf), stored with the rest of the
 * planogram; and `facing_history`, a facing's units over the last days for the staff page's charts: one row per
 * facing and minute in which its units changed (the write-behind writer coalesces within the minute), pruned after
 * `stock.historyDays`, filled at once from the readings shelf_history still holds. shelf_history stays what it was
 * (raw readings, pruned by count and by the retention days).
 * The stored fingerprint is forgotten so the next start parses the planogram file once and fills the layout.
 */
export const sql = `
CREATE TABLE planogram_aisles (
  position  INTEGER PRIMARY KEY,
  aisle     TEXT NOT NULL UNIQUE,
  name      TEXT
);
CREATE TABLE planogram_layout (
  shelf_id  TEXT PRIMARY KEY,
  aisle     TEXT NOT NULL,
  side      TEXT NOT NULL CHECK (side IN ('left', 'right')),
  position  INTEGER NOT NULL,
  UNIQUE (aisle, side, position)
);
CREATE TABLE facing_history (
  shelf_id  TEXT NOT NULL,
  facing    INTEGER NOT NULL,
  minute    INTEGER NOT NULL,
  at        INTEGER NOT NULL,
  units     INTEGER NOT NULL,
  PRIMARY KEY (shelf_id, facing, minute)
) WITHOUT ROWID;
CREATE INDEX facing_history_by_minute ON facing_history (minute);
-- the readings stored before this version: the charts show the days before the upgrade too (the last units of each
-- facing and minute; SQLite takes the bare column from the row with max(ts))
INSERT INTO facing_history (shelf_id, facing, minute, at, units)
  SELECT shelf_id, facing, ts / 60000, max(ts), units FROM shelf_history GROUP BY shelf_id, facing, ts / 60000;
DELETE FROM gateway_meta WHERE key = 'planogram.sha256';
`;
