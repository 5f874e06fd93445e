import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CampaignView } from '../../edge/campaigns/campaign.js';
import { openLiveStream } from '../helpers/live-stream.js';
import type { TestGateway } from '../helpers/test-gateway.js';
import { connectLabels, startCampaignGateway, until, type FakeLabel } from './campaign-labels.js';

const MILK = '4000000000017';
const BEANS = '4000000000024';

let tg: TestGateway;
let manager: string;
let staff: string;
let labels: FakeLabel[];

beforeAll(async () => {
  tg = await startCampaignGateway();
  manager = await tg.addToken('maria', 'manager');
  staff = await tg.addToken('tom', 'staff');
  labels = await connectLabels(tg, ['esl-c1']);
});
afterAll(async () => {
  await tg?.dispose();
});

const post = (body: unknown, token = manager) =>
  tg.api('/api/campaigns', { method: 'POST', token, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const postCsv = (csv: string, token = manager) =>
  tg.api('/api/campaigns', { method: 'POST', token, headers: { 'content-type': 'text/csv' }, body: csv });
const view = async (id: string): Promise<CampaignView> =>
  (await (await tg.api(`/api/campaigns/${id}`, { token: manager })).json()) as CampaignView;
const finished = (id: string) =>
  until(`campaign ${id} to finish`, async () => {
    const current = await view(id);
    return current.finishedAt === undefined ? undefined : current;
  });

describe('campaign API on a real gateway with MQTT labels', () => {
  it('creates a campaign from JSON; every label confirms through MQTT; the creator is the token name', async () => {
    const response = await post({
      id: 'json-1',
      prices: [
        { sku: MILK, priceCents: 205 },
        { sku: BEANS, priceCents: 899 },
      ],
    });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ id: 'json-1', createdBy: 'maria', total: 3 });
    const done = await finished('json-1');
    expect(done).toMatchObject({ state: 'done', counts: { confirmed: 3, failed: 0 } });
    expect(labels.find((label) => label.id === 'esl-b1')?.commands.at(-1)).toEqual({ sku: BEANS, priceCents: 899 });
    const list = (await (await tg.api('/api/campaigns', { token: manager })).json()) as { campaigns: CampaignView[] };
    expect(list.campaigns.map((campaign) => campaign.id)).toContain('json-1');
  });

  it('streams campaign progress on the live stream, ending with the done state', async () => {
    const stream = openLiveStream(tg.httpUrl);
    try {
      await stream.ready;
      expect((await post({ id: 'live-1', prices: [{ sku: MILK, priceCents: 209 }] })).status).toBe(201);
      const last = await until("the campaign's done event", () =>
        stream.events.find(
          (event) =>
            event.event === 'campaign' &&
            (event.data as { campaignId: string; state: string }).campaignId === 'live-1' &&
            (event.data as { state: string }).state === 'done',
        ),
      );
      expect(last.data).toMatchObject({ total: 2, counts: { confirmed: 2 } });
    } finally {
      stream.close();
    }
  });

  it('lists a label the driver refuses as failed, with its reason', async () => {
    const response = await post({ id: 'choc', prices: [{ sku: '4000000000031', priceCents: 159 }] });
    expect(response.status).toBe(201);
    const done = await finished('choc');
    expect(done.counts.failed).toBe(1);
    expect(done.failed[0]).toMatchObject({ labelId: 'esl-c1', sku: '4000000000031' });
    expect(done.failed[0]?.reason).toMatch(/display broken/);
  });

  it('answers a CSV with bad rows with every bad row and its line number, and creates nothing', async () => {
    const csv = ['sku,priceCents', `${MILK},199`, 'bad sku!,100', `${BEANS},-5`, `${BEANS},12.5`].join('\n');
    const response = await postCsv(csv);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { problems: { line: number; reason: string }[] };
    expect(body.problems.map((problem) => problem.line)).toEqual([3, 4, 5]);
  });

  it('creates campaigns from a good CSV upload', async () => {
    const response = await postCsv(`sku,priceCents\n${MILK},215\n`);
    expect(response.status).toBe(201);
    const { campaigns } = (await response.json()) as { campaigns: CampaignView[] };
    expect(campaigns).toHaveLength(1);
    expect(await finished(campaigns[0]!.id)).toMatchObject({ counts: { confirmed: 2 }, createdBy: 'maria' });
  });

  it('refuses a staff token (403) a change and no token (401) anything; staff may read the campaigns', async () => {
    expect((await post({ prices: [{ sku: MILK, priceCents: 1 }] }, staff)).status).toBe(403);
    expect((await postCsv(`sku,priceCents\n${MILK},1\n`, staff)).status).toBe(403);
    expect((await tg.api('/api/campaigns', { token: staff })).status).toBe(200);
    expect((await tg.api('/api/campaigns', { token: null })).status).toBe(401);
  });

  it('rejects a body with a duplicate sku at two prices (400, with the item) and an unknown campaign (404)', async () => {
    const response = await post({
      prices: [
        { sku: MILK, priceCents: 1 },
        { sku: MILK, priceCents: 2 },
      ],
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { problems: { line: number }[] }).problems).toEqual([expect.objectContaining({ line: 2 })]);
    expect((await tg.api('/api/campaigns/nope', { token: manager })).status).toBe(404);
    expect((await tg.api('/api/campaigns/nope/cancel', { method: 'POST', token: manager })).status).toBe(404);
  });

  it('cancels a scheduled campaign and rolls back a done one, with audit entries', async () => {
    const at = new Date(Date.now() + 3_600_000).toISOString();
    expect((await post({ id: 'later', prices: [{ sku: MILK, priceCents: 1 }], effectiveAt: at })).status).toBe(201);
    const cancelled = await tg.api('/api/campaigns/later/cancel', { method: 'POST', token: manager });
    expect(cancelled.status).toBe(200);
    expect(await cancelled.json()).toMatchObject({ state: 'cancelled', cancelledBy: 'maria' });

    const before = labels.find((label) => label.id === 'esl-m1')?.commands.at(-1)?.priceCents;
    expect((await post({ id: 'promo', prices: [{ sku: MILK, priceCents: 99 }] })).status).toBe(201);
    await finished('promo');
    const rolledBack = await tg.api('/api/campaigns/promo/rollback', {
      method: 'POST',
      token: manager,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'undo-promo' }),
    });
    expect(rolledBack.status).toBe(201);
    expect(await finished('undo-promo')).toMatchObject({ rollbackOf: 'promo', counts: { confirmed: 2 } });
    expect(labels.find((label) => label.id === 'esl-m1')?.commands.at(-1)?.priceCents).toBe(before);

    const entries = await until('audit entries', async () => {
      const rows = await tg.built.storage.db.all<{ actor: string; action: string; subject: string }>(
        "SELECT actor, action, subject FROM audit_log WHERE action LIKE 'campaign.%'",
      );
      return rows.some((row) => row.action === 'campaign.rolled-back') ? rows : undefined;
    });
    expect(entries).toEqual(
      expect.arrayContaining([
        { actor: 'maria', action: 'campaign.cancelled', subject: 'later' },
        { actor: 'maria', action: 'campaign.rolled-back', subject: 'promo' },
        { actor: 'maria', action: 'campaign.created', subject: 'json-1' },
      ]),
    );
  });
});
