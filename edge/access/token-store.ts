import type { SqliteDatabase, TransactionStep } from '../storage/database.js';
import type { Role } from '../http/roles.js';

export type StoredToken = { name: string; role: Role; digest: string; createdAt: number; revokedAt: number | null };

type TokenRow = { name: string; role: Role; digest: string; created_at: number; revoked_at: number | null };

export class TokenNameTakenError extends Error {
  constructor(readonly tokenName: string) {
    super(`a token named "${tokenName}" exists; revoke it first or choose another name`);
    this.name = 'TokenNameTakenError';
  }
}

export class TokenNotFoundError extends Error {
  constructor(readonly tokenName: string) {
    super(`no active token named "${tokenName}"`);
    this.name = 'TokenNotFoundError';
  }
}

/** API tokens in SQLite (`api_tokens`): written by the CLI, read by the running gateway. Digests only. */
export class TokenStore {
  constructor(private readonly db: SqliteDatabase) {}

  /** `withChange` (the audit entry) commits in the same transaction: the token and its entry are both on disk, or neither. */
  async add(token: { name: string; role: Role; digest: string }, now: number, withChange?: TransactionStep): Promise<void> {
    try {
      await this.db.transaction(async (tx) => {
        await tx.run('INSERT INTO api_tokens (name, role, digest, created_at) VALUES (?, ?, ?, ?)', [
          token.name,
          token.role,
          token.digest,
          now,
        ]);
        await withChange?.(tx);
      });
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT') throw new TokenNameTakenError(token.name);
      throw error;
    }
  }

  /** Revoked tokens keep their row, so the names in alerts and the audit trail stay explained. */
  async revoke(name: string, now: number, withChange?: TransactionStep): Promise<void> {
    await this.db.transaction(async (tx) => {
      const { changes } = await tx.run('UPDATE api_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL', [now, name]);
      if (changes === 0) throw new TokenNotFoundError(name);
      await withChange?.(tx);
    });
  }

  async active(): Promise<StoredToken[]> {
    const rows = await this.db.all<TokenRow>(
      'SELECT name, role, digest, created_at, revoked_at FROM api_tokens WHERE revoked_at IS NULL ORDER BY name',
    );
    return rows.map((row) => ({
      name: row.name,
      role: row.role,
      digest: row.digest,
      createdAt: row.created_at,
      revokedAt: row.revoked_at,
    }));
  }

  dataVersion(): Promise<number> {
    return this.db.dataVersion();
  }
}
