import type { SqliteDatabase } from './database.js';
import { MIGRATIONS, type Migration } from './migrations/index.js';

export class MigrationError extends Error {
  constructor(
    message: string,
    readonly version: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

/** Applies every migration newer than the database, each in its own transaction. Returns the versions applied. */
export async function migrate(db: SqliteDatabase, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  await db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
  );
  const row = await db.get<{ version: number | null }>('SELECT max(version) AS version FROM schema_migrations');
  const current = row?.version ?? 0;
  const newest = migrations.at(-1)?.version ?? 0;
  if (current > newest) {
    throw new MigrationError(
      `database schema version ${current} is newer than this gateway (${newest}): refusing to run an older release on it`,
      current,
    );
  }
  const applied: number[] = [];
  for (const migration of migrations) {
    if (migration.version <= current) continue;
    try {
      await db.transaction(async (tx) => {
        await tx.exec(migration.sql);
        await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
          migration.version,
          migration.name,
          Date.now(),
        ]);
      });
    } catch (error) {
      throw new MigrationError(
        `migration ${migration.version} (${migration.name}) failed: ${(error as Error).message}`,
        migration.version,
        { cause: error },
      );
    }
    applied.push(migration.version);
  }
  return applied;
}
