export const name = 'certificates';

/**
 * Certificates the store CA issued (`ca issue`, `ca server`): serial, subject, what for, validity and, once revoked,
 * when. The broker refuses a revoked device certificate at the next connect and closes its live session.
 */
export const sql = `
CREATE TABLE certificates (
  serial      TEXT PRIMARY KEY,
  subject     TEXT NOT NULL,
  usage       TEXT NOT NULL CHECK (usage IN ('client', 'server')),
  not_before  INTEGER NOT NULL,
  not_after   INTEGER NOT NULL,
  issued_at   INTEGER NOT NULL,
  revoked_at  INTEGER
);
CREATE INDEX certificates_subject ON certificates (subject);
`;
