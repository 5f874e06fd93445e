import { afterAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../edge/alerts/alerts.js';
import type { CampaignView } from '../../edge/campaigns/campaign.js';
import type { Kpis } from '../../edge/kpis/kpi.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { CAMPAIGN_PLANOGRAM, connectLabels, startCampaignGateway, until } from './campaign-labels.js';

const MILK = '4000000000017';
const CHOCOLATE = '4000000000031';

let tg: TestGateway | undefined;
afterAll(async () => {
  await tg?.dispose();
});

const kpis = async (gateway: TestGateway, token?: string): Promise<Kpis> => {
  const response = await gateway.api('/api/kpis?days=1', token === undefined ? {} : { token });
  expect(response.status).toBe(200);
  return (await response.json()) as Kpis;
};

describe('GET /api/kpis on a real gateway', () => {
  it('a low-stock alert resolved by restock gives a time-to-replenish; campaign outcomes the success %; a restart keeps both', async () => {
    tg = await startCampaignGateway();
    const viewer = await tg.addToken('vera', 'viewer');
    const manager = await tg.addToken('maria', 'manager');
    expect(await kpis(tg, viewer)).toMatchObject({
      timeToReplenish: { count: 0, meanMs: null, p90Ms: null },
      priceUpdates: { confirmed: 0, failed: 0, successPercent: null },
    });

    // oat milk on shelf-a/1 (1040 g a unit): low at 2, restocked at 10
    const shelf = await tg.connectDevice('shelf-a', 'shelf');
    const units = (n: number) =>
      shelf.publishAsync('store/test-store/shelf/shelf-a/weight', JSON.stringify({ facing: 1, weightG: n * 1040, ts: Date.now() }), {
        qos: 1,
      });
    const lowStock = async () => ((await (await tg!.api('/api/alerts?kind=low-stock&state=all')).json()) as { alerts: Alert[] }).alerts;
    await units(10);
    await units(2);
    const opened = await until('the low-stock alert', async () => (await lowStock()).find((a) => a.state !== 'resolved'));
    await units(10);
    const resolved = await until('the restock to resolve it', async () =>
      (await lowStock()).find((a) => a.id === opened.id && a.state === 'resolved'),
    );
    expect(resolved).toMatchObject({ resolvedBy: 'system', resolution: 'restocked' });
    const replenishMs = resolved.resolvedAt! - resolved.openedAt;

    // milk confirms on esl-m1 and esl-m2; chocolate's esl-c1 refuses: 2 of 3
    await connectLabels(tg, ['esl-c1']);
    const created = await tg.api('/api/campaigns', {
      method: 'POST',
      token: manager,
      body: JSON.stringify({
        id: 'kpi-1',
        prices: [
          { sku: MILK, priceCents: 215 },
          { sku: CHOCOLATE, priceCents: 159 },
        ],
      }),
    });
    expect(created.status).toBe(201);
    await until('the campaign to finish', async () => {
      const view = (await (await tg!.api('/api/campaigns/kpi-1', { token: manager })).json()) as CampaignView;
      return view.finishedAt === undefined ? undefined : view;
    });

    const seen = await until('the KPIs', async () => {
      const current = await kpis(tg!, viewer);
      return current.timeToReplenish.count === 1 && current.priceUpdates.confirmed + current.priceUpdates.failed === 3
        ? current
        : undefined;
    });
    expect(seen.timeToReplenish).toEqual({ count: 1, meanMs: replenishMs, p90Ms: replenishMs });
    expect(seen.priceUpdates).toEqual({ confirmed: 2, failed: 1, successPercent: 66.7 });
    expect(seen.windowMs).toBe(86_400_000);

    // a restart on the same data keeps the samples
    await tg.built.kpis.flushed();
    await tg.stop();
    const dataDir = tg.dataDir;
    const restarted = await startTestGateway({ dataDir, planogram: CAMPAIGN_PLANOGRAM });
    try {
      const after = await kpis(restarted);
      expect(after.timeToReplenish).toEqual(seen.timeToReplenish);
      expect(after.priceUpdates).toEqual(seen.priceUpdates);
    } finally {
      await restarted.stop();
    }
  });

  it('refuses without a token and rejects a window out of range', async () => {
    const gateway = await startTestGateway();
    try {
      expect((await gateway.api('/api/kpis', { token: null })).status).toBe(401);
      expect((await gateway.api('/api/kpis?days=0')).status).toBe(400);
      expect((await gateway.api('/api/kpis?days=366')).status).toBe(400);
      expect((await gateway.api('/api/kpis?days=365')).status).toBe(200);
    } finally {
      await gateway.dispose();
    }
  });
});
