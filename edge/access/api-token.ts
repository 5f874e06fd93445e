import { createHash, randomBytes } from 'node:crypto';

/** Prefix of every token the gateway issues: recognisable in a secret scanner, and in a paste that went wrong. */
export const TOKEN_PREFIX = 'sst_';
/** Names are shown in alerts and the audit trail and typed on the command line. */
export const TOKEN_NAME_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N} ._@-]{0,63}$/u;

/** 32 random bytes: guessing is hopeless, so a plain SHA-256 digest is enough to store (no slow hash needed). */
export function newApiToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** What is stored and compared: the token itself is shown once and never kept. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
