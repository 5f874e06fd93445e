export const name = 'api-tokens';

/**
 * Named API tokens with roles (created and revoked with the CLI). Only a SHA-256 digest of each token is stored; a
 * revoked token keeps its row so the names it left in alerts and the audit trail stay explained, and its name can be
 * given to a new token (unique among active tokens only).
 */
export const sql = `
CREATE TABLE api_tokens (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL,
  role        TEXT NOT NULL CHECK (role IN ('viewer', 'staff', 'manager', 'admin')),
  digest      TEXT NOT NULL UNIQUE,
  created_at  INTEGER NOT NULL,
  revoked_at  INTEGER
);
CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens (name) WHERE revoked_at IS NULL;
`;
