export const name = 'initial';

export const sql = `
CREATE TABLE products (
  sku            TEXT PRIMARY KEY,
  name           TEXT NOT NULL,
  unit_weight_g  REAL NOT NULL CHECK (unit_weight_g > 0),
  price_cents    INTEGER
);

CREATE TABLE planogram (
  shelf_id         TEXT NOT NULL,
  facing           INTEGER NOT NULL,
  sku              TEXT NOT NULL REFERENCES products(sku),
  capacity_units   INTEGER NOT NULL,
  low_stock_units  INTEGER NOT NULL,
  restock_units    INTEGER NOT NULL,
  tare_g           REAL NOT NULL DEFAULT 0,
  PRIMARY KEY (shelf_id, facing)
);

CREATE TABLE devices (
  id            TEXT PRIMARY KEY,
  kind          TEXT NOT NULL CHECK (kind IN ('shelf', 'esl', 'kiosk')),
  secret_hash   BLOB NOT NULL,
  secret_salt   BLOB NOT NULL,
  scrypt_n      INTEGER NOT NULL,
  created_at    INTEGER NOT NULL,
  disabled_at   INTEGER,
  last_seen_at  INTEGER
);

CREATE TABLE alerts (
  id               TEXT PRIMARY KEY,
  kind             TEXT NOT NULL,
  key              TEXT NOT NULL,
  state            TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'snoozed', 'resolved')),
  severity         TEXT NOT NULL,
  title            TEXT NOT NULL,
  shelf_id         TEXT,
  facing           INTEGER,
  sku              TEXT,
  device_id        TEXT,
  units            INTEGER,
  opened_at        INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  acknowledged_at  INTEGER,
  acknowledged_by  TEXT,
  snoozed_until    INTEGER,
  resolved_at      INTEGER,
  resolved_by      TEXT,
  resolution       TEXT
);
-- one active alert per key (facing, kiosk): the database enforces what the domain promises
CREATE UNIQUE INDEX alerts_one_active_per_key ON alerts (key) WHERE state <> 'resolved';
CREATE INDEX alerts_by_state ON alerts (state, updated_at);

CREATE TABLE facing_state (
  shelf_id    TEXT NOT NULL,
  facing      INTEGER NOT NULL,
  units       INTEGER NOT NULL,
  weight_g    REAL,
  source      TEXT NOT NULL,
  level       TEXT NOT NULL,
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (shelf_id, facing)
);

-- recent smoothed readings, at most one row per facing per flush; pruned to storage.maxHistoryRows
CREATE TABLE shelf_history (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  shelf_id  TEXT NOT NULL,
  facing    INTEGER NOT NULL,
  ts        INTEGER NOT NULL,
  weight_g  REAL,
  units     INTEGER NOT NULL
);
CREATE INDEX shelf_history_by_facing ON shelf_history (shelf_id, facing, ts);
`;
