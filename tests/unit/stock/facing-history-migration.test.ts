import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteDatabase } from '../../../edge/storage/database.js';
import { migrate } from '../../../edge/storage/migrate.js';
import { MIGRATIONS } from '../../../edge/storage/migrations/index.js';

const MIN = 60_000;

describe('migration 16: facing history from the readings already stored', () => {
  let dir: string;
  let db: SqliteDatabase;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'smartstore-history-migration-'));
    db = new SqliteDatabase(join(dir, 'gateway.db'));
    await db.open();
  });
  afterEach(async () => {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps the last units of each facing and minute of shelf_history', async () => {
    await migrate(
      db,
      MIGRATIONS.filter((m) => m.version < 16),
    );
    const readings = [
      ['shelf-a', 1, 10 * MIN + 1_000, 9],
      ['shelf-a', 1, 10 * MIN + 50_000, 7], // the same minute: the later one stays
      ['shelf-a', 1, 12 * MIN, 6],
      ['shelf-b', 2, 10 * MIN + 5_000, 3],
    ];
    await db.transaction((tx) =>
      tx.runMany('INSERT INTO shelf_history (shelf_id, facing, ts, weight_g, units) VALUES (?, ?, ?, NULL, ?)', readings),
    );
    expect(await migrate(db)).toContain(16);
    expect(await db.all('SELECT shelf_id, facing, minute, at, units FROM facing_history ORDER BY shelf_id, facing, minute')).toEqual([
      { shelf_id: 'shelf-a', facing: 1, minute: 10, at: 10 * MIN + 50_000, units: 7 },
      { shelf_id: 'shelf-a', facing: 1, minute: 12, at: 12 * MIN, units: 6 },
      { shelf_id: 'shelf-b', facing: 2, minute: 10, at: 10 * MIN + 5_000, units: 3 },
    ]);
  });
});
