/**
 * A gateway database on a real SQLite file in a temp dir of its own, migrated to the current schema, for tests of a
 * store or a module against the real thing; `dispose()` closes it and removes the dir. The file is `db.path`
 * (`<dir>/gateway.db`), for a test that opens a second connection to it. A failed open or migration removes the dir.
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
  const dispose = async () => {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await db.open();
    await migrate(db);
  } catch (error) {
    // the caller gets no dispose() when this throws, so the dir must not outlive the failed set-up
    await dispose().catch(() => undefined);
    throw error;
  }
  return { db, dir, dispose };
}
