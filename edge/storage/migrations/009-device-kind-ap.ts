export const name = 'device-kind-ap';

/**
 * A new device kind, `ap` (ESL access point: one MQTT connection for many labels). SQLite cannot change a CHECK
 * constraint in place: the devices table is rebuilt with the same columns and the wider check, rows copied as they are
 * (as 004 did for `case`).
 */
export const sql = `
CREATE TABLE devices_new (
  id            TEXT PRIMARY KEY,
  kind          TEXT NOT NULL CHECK (kind IN ('shelf', 'esl', 'kiosk', 'case', 'ap')),
  secret_hash   BLOB NOT NULL,
  secret_salt   BLOB NOT NULL,
  scrypt_n      INTEGER NOT NULL,
  created_at    INTEGER NOT NULL,
  disabled_at   INTEGER,
  last_seen_at  INTEGER,
  connected     INTEGER NOT NULL DEFAULT 0
);
INSERT INTO devices_new (id, kind, secret_hash, secret_salt, scrypt_n, created_at, disabled_at, last_seen_at, connected)
  SELECT id, kind, secret_hash, secret_salt, scrypt_n, created_at, disabled_at, last_seen_at, connected FROM devices;
DROP TABLE devices;
ALTER TABLE devices_new RENAME TO devices;
`;
