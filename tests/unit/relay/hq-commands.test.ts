import { CloudEvent, MQTT } from 'cloudevents';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HqCommandStore, HqCommands, commandFromCloudEvent, type CommandResult } from '../../../edge/relay/hq-commands.js';
import { SqliteDatabase } from '../../../edge/storage/database.js';
import { migrate } from '../../../edge/storage/migrate.js';

let db: SqliteDatabase;
let reported: CommandResult[];
let outcomes: string[];
let logLines: string[];

function commands(store = new HqCommandStore(db)) {
  return new HqCommands({
    store,
    report: async (result) => void reported.push(result),
    now: () => 1_000,
    log: pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) }),
    onOutcome: (outcome, replay) => outcomes.push(`${outcome}${replay ? ':replay' : ''}`),
  });
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const price = (id: string) =>
  json({ id, type: 'price-campaign', campaignId: 'summer', prices: [{ sku: '4000000000017', priceCents: 149 }] });

beforeEach(async () => {
  db = new SqliteDatabase(':memory:');
  await db.open();
  await migrate(db);
  reported = [];
  outcomes = [];
  logLines = [];
});
afterEach(async () => db.close());

/** A command as HQ's CloudEvents JS SDK sends it: structured mode for MQTT (`MQTT.structured`), the body as JSON. */
const asCloudEvent = (type: string, id: string, data?: Record<string, unknown>) =>
  Buffer.from(JSON.stringify(MQTT.structured(new CloudEvent({ id, source: '/hq/pricing', type, ...(data ? { data } : {}) })).body));

describe('HQ commands', () => {
  it('takes a command as a structured CloudEvent from the official SDK: id from the envelope, fields from data', async () => {
    const hq = commands();
    const seen: unknown[] = [];
    hq.registerHandler('price-campaign', async (command) => {
      seen.push(command);
      return { outcome: 'ok' };
    });
    const data = { campaignId: 'summer', prices: [{ sku: '4000000000017', priceCents: 149 }] };
    const result = await hq.receive('t', asCloudEvent('com.smartstore.command.price-campaign', 'cmd-ce-1', data));
    expect(result).toMatchObject({ commandId: 'cmd-ce-1', commandType: 'price-campaign', outcome: 'ok' });
    expect(seen).toEqual([{ id: 'cmd-ce-1', type: 'price-campaign', ...data }]);
    // another reverse-DNS prefix (HQ's own) and a command without fields
    const reload = await hq.receive('t', asCloudEvent('com.acme.hq.command.config-reload', 'cmd-ce-2'));
    expect(reload).toMatchObject({ commandType: 'config-reload', outcome: 'unsupported' });
    // the same id as a plain command is the same command: answered from the record
    expect(await hq.receive('t', price('cmd-ce-1'))).toEqual(result);
    expect(seen).toHaveLength(1);
  });

  it('takes a command as a binary-mode CloudEvent from the official SDK (attributes in user properties, data the payload)', async () => {
    const hq = commands();
    const data = { labels: ['esl-1'], durationS: 5 };
    const message = MQTT.binary(new CloudEvent({ id: 'cmd-ce-bin', source: '/hq/ops', type: 'com.smartstore.command.label-flash', data }));
    // the SDK lists unset attributes as undefined: an MQTT user property has a value, so they are left out
    const set = Object.entries(message.headers).filter(([, v]) => v !== undefined);
    const userProperties = Object.fromEntries(set.map(([k, v]) => [k, String(v)]));
    const contentType = message.PUBLISH?.['Content Type'];
    const payload = Buffer.from(JSON.stringify(message.body));
    const result = await hq.receive('t', payload, { userProperties, ...(contentType ? { contentType } : {}) });
    expect(result).toMatchObject({ commandId: 'cmd-ce-bin', commandType: 'label-flash', outcome: 'unsupported' });
    // without the properties the payload alone is no command (it has neither id nor type)
    expect(await hq.receive('t', payload)).toBeUndefined();
  });

  it('rejects a CloudEvent command with the reason, when its id can be read', async () => {
    const hq = commands();
    expect(await hq.receive('t', asCloudEvent('com.smartstore.price-campaign', 'cmd-ce-3', { campaignId: 'x' }))).toMatchObject({
      outcome: 'rejected',
      reason: expect.stringContaining('is not <prefix>.command.<command type>') as string,
    });
    expect(await hq.receive('t', asCloudEvent('com.smartstore.command.price-campaign', 'cmd-ce-4', { campaignId: 'x' }))).toMatchObject({
      outcome: 'rejected',
      reason: expect.stringContaining('prices') as string,
    });
    const flash = { specversion: '1.0', id: 'c', source: '/hq', type: 'command.label-flash' };
    expect(commandFromCloudEvent({ ...flash, datacontenttype: 'text/plain', data: 'x' })).toMatchObject({
      id: 'c',
      reason: 'CloudEvent datacontenttype must be application/json',
    });
    expect(commandFromCloudEvent({ ...flash, specversion: '0.3' })).toMatchObject({ reason: "CloudEvent specversion must be '1.0'" });
    expect(await hq.receive('t', json({ specversion: '1.0', source: '/hq', type: 'command.config-reload' }))).toBeUndefined();
    expect(outcomes).toEqual(['rejected', 'rejected', 'rejected']);
  });

  it('without a registered handler a valid command is unsupported, recorded and reported', async () => {
    const result = await commands().receive('p/s/commands/price', price('cmd-1'));
    expect(result).toMatchObject({ commandId: 'cmd-1', commandType: 'price-campaign', outcome: 'unsupported' });
    expect(reported).toEqual([result]);
    expect(await new HqCommandStore(db).get('cmd-1')).toEqual(result);
  });

  it('runs the handler once per id: a redelivery (also after a restart) reports the recorded result again', async () => {
    let runs = 0;
    const first = commands();
    first.registerHandler('price-campaign', async (command) => {
      runs++;
      return { outcome: 'ok', detail: { campaignId: command.campaignId, labels: command.prices.length } };
    });
    const [a, b] = await Promise.all([first.receive('t', price('cmd-2')), first.receive('t', price('cmd-2'))]);
    expect(a).toEqual(b);
    const restarted = commands();
    restarted.registerHandler('price-campaign', async () => {
      runs++;
      return { outcome: 'failed' };
    });
    const c = await restarted.receive('t', price('cmd-2'));
    expect(runs).toBe(1);
    expect(c).toMatchObject({ outcome: 'ok', detail: { campaignId: 'summer', labels: 1 } });
    expect(reported.map((r) => r.commandId)).toEqual(['cmd-2', 'cmd-2']);
    expect(outcomes).toEqual(['ok', 'ok:replay']);
  });

  it('rejects malformed commands with the reason when an id can be read, and never throws', async () => {
    const c = commands();
    const noPrices = await c.receive('t', json({ id: 'cmd-3', type: 'price-campaign', campaignId: 'x', prices: [] }));
    expect(noPrices).toMatchObject({ outcome: 'rejected' });
    expect(noPrices?.reason).toContain('/prices');
    expect(await c.receive('t', json({ id: 'cmd-4', type: 'self-destruct' }))).toMatchObject({
      outcome: 'rejected',
      reason: 'unknown command type self-destruct',
    });
    expect(await c.receive('t', json({ id: 'cmd-5', type: 'label-flash', labels: ['esl-1'], extra: 1 }))).toMatchObject({
      outcome: 'rejected',
      reason: '/ unknown field extra',
    });
    expect(await c.receive('t', Buffer.from('{not json'))).toBeUndefined();
    expect(await c.receive('t', json([1, 2]))).toBeUndefined();
    expect(await c.receive('t', json({ type: 'price-campaign' }))).toBeUndefined();
    expect(reported.map((r) => `${r.commandId}:${r.outcome}`)).toEqual(['cmd-3:rejected', 'cmd-4:rejected', 'cmd-5:rejected']);
    expect(outcomes.filter((o) => o === 'rejected')).toHaveLength(6);
  });

  it('a handler that throws makes the command failed, not the gateway', async () => {
    const c = commands();
    c.registerHandler('label-flash', async () => {
      throw new Error('access point offline');
    });
    expect(await c.receive('t', json({ id: 'cmd-6', type: 'label-flash', labels: ['esl-1'] }))).toMatchObject({
      outcome: 'failed',
      reason: 'access point offline',
    });
  });

  it('logs malformed commands rate-limited', async () => {
    const c = commands();
    for (let i = 0; i < 50; i++) await c.receive('t', Buffer.from('garbage'));
    expect(logLines.filter((l) => l.includes('without a readable id')).length).toBe(5);
  });

  it('keeps the record bounded', async () => {
    const store = new HqCommandStore(db, 10);
    const c = commands(store);
    for (let i = 0; i < 250; i++) await c.receive('t', json({ id: `cmd-b${i}`, type: 'config-reload' }));
    const { n } = (await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM hq_commands'))!;
    expect(n).toBeLessThanOrEqual(110);
    expect(await store.get('cmd-b249')).toBeDefined();
  });
});
