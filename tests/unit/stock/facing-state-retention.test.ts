import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FacingStateStore } from '../../../edge/stock/facing-state-store.js';
import { SqliteDatabase } from '../../../edge/storage/database.js';
import { migrate } from '../../../edge/storage/migrate.js';

describe('shelf_history retention', () => {
  it('deletes the raw readings recorded before the cutoff and nothing newer', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'smartstore-history-retention-'));
    const db = new SqliteDatabase(join(dir, 'gateway.db'));
    try {
      await db.open();
      await migrate(db);
      for (const ts of [1_000, 2_000, 3_000, 4_000])
        await db.run('INSERT INTO shelf_history (shelf_id, facing, ts, weight_g, units) VALUES (?, ?, ?, ?, ?)', [
          'shelf-a',
          1,
          ts,
          500,
          5,
        ]);
      expect(await new FacingStateStore(db).purgeHistoryBefore(3_000)).toBe(2);
      expect((await db.all<{ ts: number }>('SELECT ts FROM shelf_history ORDER BY ts')).map((r) => r.ts)).toEqual([3_000, 4_000]);
    } finally {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
