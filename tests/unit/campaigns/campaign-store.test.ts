import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CampaignStore } from '../../../edge/campaigns/campaign-store.js';
import type { SqliteDatabase } from '../../../edge/storage/database.js';
import { migratedDatabase, type MigratedDatabase } from '../../helpers/migrated-database.js';
import { Harness } from './campaign-harness.js';

let fixture: MigratedDatabase;
let db: SqliteDatabase;
let store: CampaignStore;

beforeEach(async () => {
  fixture = await migratedDatabase('smartstore-campaign-store-');
  db = fixture.db;
  store = new CampaignStore(db);
});
afterEach(async () => {
  await fixture.dispose();
});

/** every row of a board, as a flush that found everything dirty would write it */
function everything(harness: Harness, forgotten: string[] = []) {
  const board = harness.board;
  return {
    campaigns: board.order.map((id) => board.campaigns[id]!),
    labels: board.order.flatMap((id) => Object.values(board.campaigns[id]!.labels).map((label) => ({ campaignId: id, label }))),
    records: Object.entries(board.book.records).map(([labelId, record]) => ({ labelId, record })),
    forgotten,
  };
}

describe('campaign store', () => {
  it('reads back the board it wrote: campaigns in order, labels, price book', async () => {
    const harness = new Harness();
    harness.create({ id: 'b-first', prices: { A: 100 }, labelsBySku: { A: ['L1', 'L2'] } });
    harness.create({ id: 'a-second', prices: { B: 250 }, labelsBySku: { B: ['L3'] } });
    harness.confirm('L1', 1);
    await store.save(everything(harness));
    const loaded = await store.load();
    expect(loaded).toEqual(JSON.parse(JSON.stringify(harness.board)));
    expect(loaded.order).toEqual(['b-first', 'a-second']);
  });

  it('updates rows in place and deletes a forgotten campaign with its labels, and a record set to undefined', async () => {
    const harness = new Harness();
    harness.create({ id: 'one', prices: { A: 100 }, labelsBySku: { A: ['L1'] } });
    harness.create({ id: 'two', prices: { B: 200 }, labelsBySku: { B: ['L2'] } });
    await store.save(everything(harness));
    harness.confirm('L2', 1);
    await store.save({
      campaigns: [harness.board.campaigns.two!],
      labels: [{ campaignId: 'two', label: harness.labelOf('two', 'L2') }],
      records: [{ labelId: 'L1', record: undefined }],
      forgotten: ['one'],
    });
    const loaded = await store.load();
    expect(loaded.order).toEqual(['two']);
    expect(loaded.campaigns.two?.labels.L2?.state).toBe('confirmed');
    expect(loaded.campaigns.two?.state).toBe('done');
    expect(Object.keys(loaded.book.records)).toEqual(['L2']);
    expect(await db.all('SELECT * FROM campaign_labels WHERE campaign_id = ?', ['one'])).toEqual([]);
  });

  it('reports an unreadable row with what it was', async () => {
    await db.run("INSERT INTO campaigns (id, state, doc) VALUES ('x', 'running', '{broken')");
    await expect(store.load()).rejects.toThrow(/unreadable campaign x/);
  });
});
