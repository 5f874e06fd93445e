/**
 * "Send again" on a real gateway with direct MQTT labels: after a campaign confirmed 2.09 on both milk labels, one
 * reports showing 1.89 (its display was swapped); the campaign lists it as showing another price, the `campaign` live
 * event counts it, and POST /api/campaigns/:id/resend sends it 2.09 again — only that label — as a new campaign named
 * after the first, which the label confirms; the mismatch is then gone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CampaignView } from '../../edge/campaigns/campaign.js';
import { openLiveStream } from '../helpers/live-stream.js';
import type { TestGateway } from '../helpers/test-gateway.js';
import { connectLabels, startCampaignGateway, until, type FakeLabel } from './campaign-labels.js';

const MILK = '4000000000017';

let tg: TestGateway;
let manager: string;
let labels: FakeLabel[];

beforeAll(async () => {
  tg = await startCampaignGateway();
  manager = await tg.addToken('maria', 'manager');
  labels = await connectLabels(tg, [], ['esl-m1', 'esl-m2']);
});
afterAll(async () => {
  for (const label of labels ?? []) await label.client.endAsync();
  await tg?.dispose();
});

const view = async (id: string): Promise<CampaignView> =>
  (await (await tg.api(`/api/campaigns/${id}`, { token: manager })).json()) as CampaignView;

describe('send again on a real gateway', () => {
  it('sends a confirmed label that later shows another price its price again, and only that one', async () => {
    const created = await tg.api('/api/campaigns?name=milk-week-50.csv', {
      method: 'POST',
      token: manager,
      headers: { 'content-type': 'text/csv' },
      body: `sku,priceCents\n${MILK},209\n`,
    });
    expect(created.status).toBe(201);
    const id = ((await created.json()) as { campaigns: CampaignView[] }).campaigns[0]?.id as string;
    await until('both milk labels to confirm', async () => ((await view(id)).counts.confirmed === 2 ? true : undefined));

    const stream = openLiveStream(tg.httpUrl, manager);
    await stream.ready;
    try {
      // esl-m2's display was swapped for one showing the old price: its next status says so
      const [, m2] = labels;
      await m2!.client.publishAsync(
        'store/test-store/esl/esl-m2/status',
        JSON.stringify({ batteryMv: 2_870, displayedPriceCents: 189, ts: Date.now() }),
        {
          qos: 1,
        },
      );
      const listed = await until('the mismatch to be listed', async () => {
        const current = await view(id);
        return current.mismatched.length === 1 ? current : undefined;
      });
      expect(listed).toMatchObject({ state: 'done', counts: { confirmed: 2, failed: 0 }, mismatchedNotListed: 0 });
      expect(listed.mismatched[0]).toMatchObject({ labelId: 'esl-m2', sku: MILK, priceCents: 209, shownPriceCents: 189 });
      await until('the campaign event to count it', () =>
        stream.events.find((event) => event.event === 'campaign' && (event.data as { mismatched?: number }).mismatched === 1),
      );
    } finally {
      stream.close();
    }

    const sentBefore = labels.map((label) => label.commands.length);
    const resend = await tg.api(`/api/campaigns/${id}/resend`, { method: 'POST', token: manager });
    expect(resend.status).toBe(201);
    const again = (await resend.json()) as CampaignView;
    expect(again).toMatchObject({ name: 'milk-week-50.csv (sent again)', resendOf: id, createdBy: 'maria', total: 1 });
    await until('the resend to be confirmed', async () => ((await view(again.id)).state === 'done' ? true : undefined));
    expect((await view(again.id)).counts.confirmed).toBe(1);
    // only esl-m2 got the price again
    expect(labels.map((label) => label.commands.length - (sentBefore[labels.indexOf(label)] ?? 0))).toEqual([0, 1]);
    expect(labels[1]?.commands.at(-1)).toEqual({ sku: MILK, priceCents: 209 });
    expect((await view(id)).mismatched).toEqual([]);
    const nothing = await tg.api(`/api/campaigns/${id}/resend`, { method: 'POST', token: manager });
    expect(nothing.status).toBe(409);
  });
});
