import { describe, expect, it } from 'vitest';
import { FacingStateStore } from '../../../edge/stock/facing-state-store.js';
import { migratedDatabase } from '../../helpers/migrated-database.js';

describe('shelf_history retention', () => {
  it('deletes the raw readings recorded before the cutoff and nothing newer', async () => {
    const fixture = await migratedDatabase('smartstore-history-retention-');
    const db = fixture.db;
    try {
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
      await fixture.dispose();
    }
  });
});
