import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LabelSightingStore } from '../../../edge/labels/label-sightings-store.js';
import type { SqliteDatabase } from '../../../edge/storage/database.js';
import { migratedDatabase, type MigratedDatabase } from '../../helpers/migrated-database.js';

let fixture: MigratedDatabase;
let db: SqliteDatabase;
let store: LabelSightingStore;

beforeEach(async () => {
  fixture = await migratedDatabase('smartstore-sightings-');
  db = fixture.db;
  store = new LabelSightingStore(db);
});
afterEach(async () => {
  await fixture.dispose();
});

describe('label sightings store', () => {
  it('reads back what it wrote, absent fields absent; a second write updates in place', async () => {
    await store.save([
      { labelId: 'L1', driverId: 'mqtt-ap:ap-1', trackedSince: 1_000, lastSeenAt: 5_000, batteryMv: 2_900, displayedPriceCents: 249 },
      { labelId: 'L2', trackedSince: 1_000, batteryMv: null },
    ]);
    await store.save([
      { labelId: 'L2', driverId: 'oepl:ap-2', trackedSince: 1_000, lastSeenAt: 6_000, batteryMv: null, displayedPriceCents: 0 },
    ]);
    expect(await store.loadAll(10)).toEqual([
      { labelId: 'L2', driverId: 'oepl:ap-2', trackedSince: 1_000, lastSeenAt: 6_000, batteryMv: null, displayedPriceCents: 0 },
      { labelId: 'L1', driverId: 'mqtt-ap:ap-1', trackedSince: 1_000, lastSeenAt: 5_000, batteryMv: 2_900, displayedPriceCents: 249 },
    ]);
    expect(await db.get<{ n: number }>('SELECT count(*) AS n FROM label_sightings')).toEqual({ n: 2 });
  });

  it('writes 50,000 sightings in one call and loads the most recently seen first, up to the limit', async () => {
    const many = Array.from({ length: 50_000 }, (_, i) => ({
      labelId: `L${i}`,
      driverId: `mqtt-ap:ap-${i % 20}`,
      trackedSince: 0,
      lastSeenAt: i,
      batteryMv: 3_000,
    }));
    await store.save(many);
    const loaded = await store.loadAll(3);
    expect(loaded.map((s) => s.labelId)).toEqual(['L49999', 'L49998', 'L49997']);
    expect(await db.get<{ n: number }>('SELECT count(*) AS n FROM label_sightings')).toEqual({ n: 50_000 });
  });

  it('prune forgets labels not seen since a time unless kept (bound); a never-seen label counts from when it was tracked', async () => {
    await store.save([
      { labelId: 'old-unbound', trackedSince: 0, lastSeenAt: 100, batteryMv: null },
      { labelId: 'old-bound', trackedSince: 0, lastSeenAt: 100, batteryMv: null },
      { labelId: 'never-seen-old', trackedSince: 50, batteryMv: null },
      { labelId: 'recent', trackedSince: 0, lastSeenAt: 5_000, batteryMv: null },
    ]);
    expect(await store.prune(1_000, ['old-bound'])).toBe(2);
    expect((await store.loadAll(10)).map((s) => s.labelId).sort()).toEqual(['old-bound', 'recent']);
  });
});
