import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cloudEventFactory } from '../../../edge/relay/cloud-event.js';
import { configDefaults } from '../../../edge/core/schema-defaults.js';
import { OutboxConfigSchema } from '../../../edge/relay/outbox-config.js';
import { DROPPED_EVENT_TYPE, SqliteOutbox, type DroppedReport } from '../../../edge/relay/outbox-store.js';
import type { OutboxRow } from '../../../edge/relay/outbox.js';

const DAY = 86_400_000;
let dir: string;
let clock: number;
let ids: number;
let outbox: SqliteOutbox;
const now = () => clock;
const newId = () => `00000000-0000-4000-8000-${String(++ids).padStart(12, '0')}`;
// the production default: envelope types carry the reverse-DNS prefix, rows are filed (and expired) without it
const typePrefix = 'com.smartstore';
const newEvent = cloudEventFactory({ storeId: 's1', typePrefix, newId, now });
const event = (type: string) => newEvent({ type, subject: 'test', data: { at: clock } });

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smartstore-outbox-retention-'));
  clock = 1_700_000_000_000;
  ids = 0;
  const config = { ...configDefaults(OutboxConfigSchema), droppedReportIntervalMs: 0, flushIntervalMs: 1 };
  outbox = new SqliteOutbox(dir, config, { storeId: 's1', typePrefix, newId, now, log: pino({ level: 'silent' }) });
  await outbox.start();
});
afterEach(async () => {
  await outbox.stop();
  await rm(dir, { recursive: true, force: true });
});

async function allRows(): Promise<OutboxRow[]> {
  const rows = [...(await outbox.read('critical', 0, 100_000)), ...(await outbox.read('operational', 0, 100_000))];
  outbox.release(rows.map((r) => r.seq));
  return rows;
}

describe('outbox retention (expire)', () => {
  it('drops only the expired events of the given kind, leaves leased ones, and tells HQ how many and from when', async () => {
    const old = await outbox.append(event('store.kiosk.event'), 'critical');
    expect(old.type).toBe('store.kiosk.event');
    expect(JSON.parse(old.body)).toMatchObject({ type: 'com.smartstore.store.kiosk.event' });
    const oldLeased = await outbox.append(event('store.kiosk.transaction'), 'critical');
    const oldAlert = await outbox.append(event('store.alert.changed'), 'critical');
    clock += 31 * DAY;
    const fresh = await outbox.append(event('store.kiosk.event'), 'critical');
    const leased = await outbox.read('critical', oldAlert.seq - 2, 1); // oldLeased is in flight to HQ
    expect(leased.map((r) => r.seq)).toEqual([oldLeased.seq]);

    const committed = new Promise<readonly OutboxRow[]>((resolve) => outbox.onDurable((rows) => resolve(rows)));
    outbox.expire('store.kiosk.', clock - 30 * DAY);
    const report = (await committed).find((row) => row.type === DROPPED_EVENT_TYPE);
    expect(report).toBeDefined();
    const body = JSON.parse((report as OutboxRow).body) as { type: string; data: DroppedReport };
    expect(body.type).toBe('com.smartstore.store.relay.dropped');
    const data = body.data;
    expect(data.perClass.critical).toEqual({
      count: 1,
      firstTime: new Date(old.createdAt).toISOString(),
      lastTime: new Date(old.createdAt).toISOString(),
    });

    outbox.release([oldLeased.seq]);
    const left = (await allRows()).map((r) => r.seq);
    expect(left).toContain(oldLeased.seq);
    expect(left).toContain(oldAlert.seq);
    expect(left).toContain(fresh.seq);
    expect(left).not.toContain(old.seq);
    expect(outbox.stats(clock).perClass.critical.dropped.count).toBe(1);
  });
});
