export const name = 'gateway-meta';

/** Small facts about the store's data, e.g. the fingerprint of the planogram file loaded last. */
export const sql = `
CREATE TABLE gateway_meta (
  key    TEXT PRIMARY KEY,
  value  TEXT NOT NULL
);
`;
