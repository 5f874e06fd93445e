export const name = 'store-identity';

/**
 * The store's uuid, made once with the database (random, not the configured storeId: two stores may share an id by
 * mistake, a database never changes stores). `store.json` in the data dir holds the same uuid; a database whose uuid
 * differs from it is another store's, and the gateway refuses to start on it (see storage/store-identity.ts).
 */
export const sql = `
CREATE TABLE store_identity (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  store_uuid  TEXT NOT NULL,
  created_at  INTEGER NOT NULL
);
INSERT INTO store_identity (id, store_uuid, created_at)
VALUES (1, lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' ||
  substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))),
  CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
`;
