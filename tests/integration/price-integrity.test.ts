import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../edge/alerts/alerts.js';
import type { CampaignView } from '../../edge/campaigns/campaign.js';
import type { Kpis } from '../../edge/kpis/kpi.js';
import type { TestGateway } from '../helpers/test-gateway.js';
import { connectLabels, startCampaignGateway, until, type FakeLabel } from './campaign-labels.js';

const MILK = '4000000000017';
const BEANS = '4000000000024';

let tg: TestGateway;
let manager: string;
let labels: FakeLabel[];

beforeAll(async () => {
  tg = await startCampaignGateway();
  manager = await tg.addToken('maria', 'manager');
  labels = await connectLabels(tg);
  // the labels confirm their prices through a campaign over MQTT: milk 2.05 on esl-m1 and esl-m2, beans 8.99 on esl-b1
  const created = await tg.api('/api/campaigns', {
    method: 'POST',
    token: manager,
    body: JSON.stringify({
      id: 'prices-1',
      prices: [
        { sku: MILK, priceCents: 205 },
        { sku: BEANS, priceCents: 899 },
      ],
    }),
  });
  expect(created.status).toBe(201);
  const done = await until('the campaign to finish', async () => {
    const view = (await (await tg.api('/api/campaigns/prices-1', { token: manager })).json()) as CampaignView;
    return view.finishedAt === undefined ? undefined : view;
  });
  expect(done.counts).toMatchObject({ confirmed: 3, failed: 0 });
});
afterAll(async () => {
  await tg?.dispose();
});

const mismatches = async (state: 'active' | 'all' = 'active') =>
  ((await (await tg.api(`/api/alerts?kind=price-mismatch&state=${state}`)).json()) as { alerts: Alert[] }).alerts;

describe('price integrity on a real gateway (MQTT labels, kiosk, campaign)', () => {
  it('a kiosk charging another price than the label confirmed: a critical price-mismatch naming both; a match resolves it', async () => {
    const kiosk = await tg.connectDevice('kiosk-1', 'kiosk');
    const scan = (priceCents: number) =>
      kiosk.publishAsync(
        'store/test-store/kiosk/kiosk-1/event',
        JSON.stringify({ type: 'item-scanned', basketId: 'b-1', sku: MILK, qty: 1, priceCents, ts: Date.now() }),
        { qos: 1 },
      );

    await scan(199);
    const [alert] = await until('the price-mismatch alert', async () => ((await mismatches()).length > 0 ? mismatches() : undefined));
    expect(alert).toMatchObject({
      kind: 'price-mismatch',
      key: `price-mismatch:sku:${MILK}`,
      severity: 'critical',
      state: 'open',
      sku: MILK,
      deviceId: 'kiosk-1',
      shelfId: 'shelf-a',
      facing: 1,
    });
    expect(alert!.title).toMatch(/charged 1\.99, label esl-m[12] shows 2\.05/);

    await scan(205);
    const resolved = await until('the mismatch to resolve', async () => {
      const current = (await (await tg.api(`/api/alerts/${alert!.id}`)).json()) as Alert;
      return current.state === 'resolved' ? current : undefined;
    });
    expect(resolved).toMatchObject({ resolvedBy: 'system', resolution: 'prices agree' });
    expect(await mismatches()).toEqual([]);
  });

  it('a label reporting another price than it confirmed opens a mismatch on that label; its confirmed price resolves it', async () => {
    const beans = labels.find((label) => label.id === 'esl-b1')!;
    const status = (displayedPriceCents: number) =>
      beans.client.publishAsync(
        'store/test-store/esl/esl-b1/status',
        JSON.stringify({ batteryMv: 2900, displayedPriceCents, ts: Date.now() }),
        { qos: 1 },
      );

    await status(499);
    const [alert] = await until('the label mismatch', async () => ((await mismatches()).length > 0 ? mismatches() : undefined));
    expect(alert).toMatchObject({
      kind: 'price-mismatch',
      key: 'price-mismatch:label:esl-b1',
      severity: 'critical',
      deviceId: 'esl-b1',
      sku: BEANS,
      shelfId: 'shelf-a',
      facing: 2,
    });
    expect(alert!.title).toBe(`Price mismatch on label esl-b1: it shows 4.99, confirmed 8.99 for Espresso beans 500 g (${BEANS})`);

    await status(899);
    await until('the label mismatch to resolve', async () => ((await mismatches()).length === 0 ? true : undefined));
    expect((await mismatches('all')).find((a) => a.id === alert!.id)).toMatchObject({ state: 'resolved', resolution: 'prices agree' });
  });

  it('counts both mismatches on today in /api/kpis', async () => {
    const kpis = (await (await tg.api('/api/kpis')).json()) as Kpis;
    expect(kpis.priceMismatchesPerDay).toEqual([{ day: new Date().toISOString().slice(0, 10), count: 2 }]);
  });
});
