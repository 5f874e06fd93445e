export const name = 'planogram-labels';

/**
 * The planogram file's `labels` section, stored with the rest of the planogram so the labels room reads it from SQLite
 * at start instead of parsing the file a second time (a 50,000-label file takes seconds to parse). The stored
 * fingerprint is forgotten so the next start parses the file once and fills this table.
 */
export const sql = `
CREATE TABLE planogram_labels (
  position  INTEGER PRIMARY KEY,
  label     TEXT NOT NULL,
  shelf_id  TEXT NOT NULL,
  facing    INTEGER NOT NULL
);
DELETE FROM gateway_meta WHERE key = 'planogram.sha256';
`;
