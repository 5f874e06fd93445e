/**
 * A gateway database on a real SQLite file in a temp dir of its own, migrated to the current schema, for tests of a
 * store or a module against the real thing; `dispose()` closes it and removes the dir.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteDatabase } from '../../edge/storage/database.js';
import { migrate } from '../../edge/storage/migrate.js';

export type MigratedDatabase = { db: SqliteDatabase; dir: string; dispose(): Promise<void> };

export async function migratedDatabase(prefix: string): Promise<MigratedDatabase> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const db = new SqliteDatabase(join(dir, 'gateway.db'));
  await db.open();
  await migrate(db);
  return {
    db,
    dir,
    dispose: async () => {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
