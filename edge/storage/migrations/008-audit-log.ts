export const name = 'audit-log';

/**
 * audit_log: the append-only, hash-chained audit trail (edge/audit/). `seq` runs 1, 2, 3 … without gaps, assigned
 * inside the transaction that appends, so the gateway and a CLI process writing at once still make one chain;
 * `details` is canonical JSON; `hash` covers the entry and `prev_hash` (see audit-entry.ts).
 *
 * The triggers refuse UPDATE and DELETE, so no code path of the gateway can change history by mistake. They are a
 * guard, not the proof: someone with the file can drop them, and `audit verify` still finds what they changed.
 */
export const sql = `
CREATE TABLE audit_log (
  seq        INTEGER PRIMARY KEY,
  at         INTEGER NOT NULL,
  actor      TEXT NOT NULL,
  action     TEXT NOT NULL,
  subject    TEXT NOT NULL,
  details    TEXT NOT NULL,
  prev_hash  TEXT NOT NULL,
  hash       TEXT NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only: entries are never updated');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only: entries are never deleted');
END;
`;
