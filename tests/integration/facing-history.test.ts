/**
 * Facing history end to end: shelf readings over MQTT → one row per facing and changed minute, written behind into a
 * real SQLite file → GET /api/facings/:shelfId/:facing/history; it survives a restart and goes after stock.historyDays.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FacingHistoryStore } from '../../edge/stock/facing-history-store.js';
import type { SqliteDatabase } from '../../edge/storage/database.js';
import { migratedDatabase, type MigratedDatabase } from '../helpers/migrated-database.js';
import { eventually, restartableShelfGateways, type TestGateway } from '../helpers/test-gateway.js';

const UNIT_G = 1040; // oat milk, shelf-a facing 1
const MIN = 60_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 11, 7, 8, 0, 0);

type History = { name: string; units: number | null; from: number; to: number; points: { at: number; units: number }[] };

async function history(gw: TestGateway, query = ''): Promise<History> {
  const response = await gw.api(`/api/facings/shelf-a/1/history${query}`);
  expect(response.status).toBe(200);
  return (await response.json()) as History;
}

describe('facing history over a real gateway', () => {
  const gateways = restartableShelfGateways();
  let dataDir: string;
  let clock = T0;
  const now = () => clock;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'smartstore-history-'));
    clock = T0;
  });
  afterEach(async () => {
    await gateways.dispose();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('records a point per changed minute, answers the route, keeps it across a restart and prunes it after historyDays', async () => {
    const gw = await gateways.start({ dataDir, now, overrides: { stock: { historyDays: 1 } } });
    const publish = await gateways.connectShelf(gw, true, 1);
    const units = async (n: number, at: number) => {
      clock = at;
      const seen = eventually(() => (gw.built.stock.stock.get('shelf-a', 1)?.units === n ? true : undefined), 5_000, `${n} units`);
      await publish(n * UNIT_G + 2);
      await seen;
    };
    await units(10, T0 + 1_000);
    await units(7, T0 + 3 * MIN); // a minute with two changes keeps its last
    await units(6, T0 + 3 * MIN + 20_000);
    await units(0, T0 + 5 * MIN);
    clock = T0 + 10 * MIN;

    const expected = [
      { at: T0 + 1_000, units: 10 },
      { at: T0 + 3 * MIN + 20_000, units: 6 },
      { at: T0 + 5 * MIN, units: 0 },
    ];
    const first = await eventually(
      async () => {
        const body = await history(gw, '?hours=1');
        return body.points.length === 3 ? body : undefined;
      },
      5_000,
      'three history points written behind',
    );
    expect(first).toMatchObject({ name: 'Oat milk 1 l', units: 0, from: T0 + 10 * MIN - 3_600_000, to: T0 + 10 * MIN });
    expect(first.points).toEqual(expected);
    // a window starting after the first change begins with the units the facing had then
    expect((await history(gw, '?hours=1')).points).toEqual(expected);
    clock = T0 + 64 * MIN;
    expect((await history(gw, '?hours=1')).points).toEqual([
      { at: T0 + 4 * MIN, units: 6 },
      { at: T0 + 5 * MIN, units: 0 },
    ]);

    await gateways.disconnectShelves();
    await gw.stop();
    clock = T0 + 2 * 3_600_000;
    const again = await gateways.start({ dataDir, now, overrides: { stock: { historyDays: 1 } } });
    expect((await history(again, '?hours=3')).points).toEqual(expected);
    await gateways.disconnectShelves();
    await again.stop();

    // two days later the start-up pass prunes what is older than one day
    clock = T0 + 2 * DAY;
    const later = await gateways.start({ dataDir, now, overrides: { stock: { historyDays: 1 } } });
    await eventually(
      async () => ((await history(later, '?hours=336')).points.length === 0 ? true : undefined),
      5_000,
      'the old history pruned',
    );
  });

  it('answers 404 for a facing the planogram does not have and 400 for a window past 14 days', async () => {
    const gw = await gateways.start({ dataDir, now });
    expect((await gw.api('/api/facings/shelf-a/9/history')).status).toBe(404);
    expect(await (await gw.api('/api/facings/shelf-a/9/history')).json()).toMatchObject({
      message: 'facing 9 of shelf-a is not in the planogram',
    });
    expect((await gw.api('/api/facings/shelf-a/1/history?hours=337')).status).toBe(400);
    expect((await gw.api('/api/facings/shelf-a/1/history?hours=336')).status).toBe(200);
    expect((await gw.api('/api/facings/shelf-a/1/history', { token: null })).status).toBe(401);
  });
});

describe('FacingHistoryStore.pruneBefore on a real SQLite file', () => {
  let fixture: MigratedDatabase;
  let db: SqliteDatabase;
  beforeEach(async () => {
    fixture = await migratedDatabase('smartstore-history-prune-');
    db = fixture.db;
  });
  afterEach(() => fixture.dispose());

  it('deletes every row before the cutoff in bounded batches and keeps the newer ones', async () => {
    const rows: [string, number, number, number, number][] = [];
    for (let minute = 0; minute < 4_500; minute += 1) rows.push([`shelf-${minute % 7}`, 1 + (minute % 5), minute, minute * MIN, 3]);
    for (let minute = 10_000; minute < 10_010; minute += 1) rows.push(['shelf-1', 1, minute, minute * MIN, 4]);
    await db.transaction((tx) =>
      tx.runMany('INSERT INTO facing_history (shelf_id, facing, minute, at, units) VALUES (?, ?, ?, ?, ?)', rows),
    );
    const store = new FacingHistoryStore(db);
    expect(await store.pruneBefore(10_000 * MIN)).toBe(4_500);
    expect(await db.all('SELECT minute FROM facing_history ORDER BY minute')).toHaveLength(10);
    expect(await store.pruneBefore(10_000 * MIN)).toBe(0);
  });
});
