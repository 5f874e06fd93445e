/** The planogram module at start: an unchanged file is not parsed again; a store upgraded to migration 14 parses once. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { PlanogramModule } from '../../../edge/planogram/module.js';
import { SqliteDatabase } from '../../../edge/storage/database.js';
import { migrate } from '../../../edge/storage/migrate.js';
import { MIGRATIONS } from '../../../edge/storage/migrations/index.js';

let dir: string;
let db: SqliteDatabase;
const log = pino({ level: 'silent' });

const FILE = {
  products: [{ sku: '4000000000017', name: 'Oat milk 1 l', unitWeightG: 1040 }],
  shelves: [{ id: 'shelf-a', facings: [{ facing: 1, sku: '4000000000017', capacityUnits: 10, lowStockUnits: 2 }] }],
  labels: [{ label: 'esl-m1', shelfId: 'shelf-a', facing: 1 }],
};

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smartstore-planogram-module-'));
  db = new SqliteDatabase(join(dir, 'gateway.db'));
  await db.open();
});
afterEach(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

describe('planogram module', () => {
  it("serves the file's labels section from SQLite, also after a restart that does not parse the file", async () => {
    await migrate(db);
    const file = join(dir, 'planogram.yaml');
    await writeFile(file, stringify(FILE));
    const first = new PlanogramModule(db, file, log);
    await first.start();
    expect(first.index.planogram.labels).toEqual(FILE.labels);
    const again = new PlanogramModule(db, file, log);
    await again.start();
    expect(again.index.planogram.labels).toEqual(FILE.labels);
  });

  it('a store that loaded its file before migration 14 parses it once more, so its labels are not lost', async () => {
    await migrate(
      db,
      MIGRATIONS.filter((migration) => migration.version < 14),
    );
    const file = join(dir, 'planogram.yaml');
    await writeFile(file, stringify(FILE));
    // the old gateway stored the planogram and its fingerprint, and had nowhere to keep the labels
    const old = await import('../../../edge/planogram/planogram-store.js');
    await db.run('INSERT INTO gateway_meta (key, value) VALUES (?, ?)', ['planogram.sha256', old.planogramFingerprint(stringify(FILE))]);
    await migrate(db);
    const upgraded = new PlanogramModule(db, file, log);
    await upgraded.start();
    expect(upgraded.index.planogram.labels).toEqual(FILE.labels);
  });
});
