/** What the labels room heard of each label comes back after a restart, bound labels first within labels.drivers.maxLabels. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LabelView } from '../../edge/labels/label-routes.js';
import { SqliteDatabase } from '../../edge/storage/database.js';
import { TEST_PLANOGRAM, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const dirs: string[] = [];
let tg: TestGateway | undefined;

afterAll(async () => {
  await tg?.stop();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('label sightings across a restart', () => {
  it("keeps a bound label's last sighting, and a label seen once and gone since cannot crowd a bound one out", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'smartstore-label-sightings-'));
    dirs.push(dataDir);
    const options = {
      dataDir,
      planogram: {
        ...TEST_PLANOGRAM,
        labels: [
          { label: 'esl-m1', shelfId: 'shelf-a', facing: 1 },
          { label: 'esl-b1', shelfId: 'shelf-a', facing: 2 },
        ],
      },
      overrides: { labels: { drivers: { maxLabels: 2 } } },
    };
    tg = await startTestGateway(options);
    await tg.stop();
    // what that gateway's labels room would have written, edited while it is stopped: esl-m1 seen with its battery and
    // price; esl-gone seen more recently, bound to nothing; esl-b1 never seen
    const db = new SqliteDatabase(join(dataDir, 'gateway.db'));
    await db.open();
    await db.run('DELETE FROM label_sightings');
    const seenAt = Date.now() - 60_000;
    await db.run(
      `INSERT INTO label_sightings (label_id, driver_id, tracked_since, last_seen_at, battery_mv, displayed_price_cents) VALUES
         ('esl-m1', 'mqtt-esl', ?1, ?1, 2900, 249), ('esl-gone', 'mqtt-ap:ap-9', ?1, ?1 + 1000, 3000, 100)`,
      [seenAt],
    );
    await db.close();

    tg = await startTestGateway(options);
    const token = await tg.addToken('lena', 'viewer');
    const { labels } = (await (await tg.api('/api/labels', { token })).json()) as { labels: LabelView[] };
    expect(labels.map((label) => label.labelId).sort()).toEqual(['esl-b1', 'esl-m1']);
    expect(labels.find((label) => label.labelId === 'esl-m1')).toMatchObject({
      driverId: 'mqtt-esl',
      batteryMv: 2900,
      lastSeenAt: seenAt,
      displayedPriceCents: 249,
    });
    expect(labels.find((label) => label.labelId === 'esl-b1')).toMatchObject({ lastSeenAt: null, state: 'never-seen' });
  });
});
