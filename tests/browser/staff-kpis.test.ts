/**
 * The staff page's KPIs view in real Chromium against a real gateway: a low-stock alert on the oat milk facing is
 * resolved by a restock (a time to replenish), a campaign confirms two labels and one refuses (2 of 3 price updates);
 * the view's tiles show the numbers GET /api/kpis returns, in words, one chart per day series has a table of its days
 * for screen readers, the window switches to 30 days, and axe finds no serious violation at phone, tablet and desktop
 * width (screenshots in tests/browser/screenshots/).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../edge/alerts/alerts.js';
import type { CampaignView } from '../../edge/campaigns/campaign.js';
import { formatDuration, formatPercent, type KpisAnswer } from '../../dashboards/staff/src/views/kpis/kpi-model.js';
import { haveChromium, launchChromium } from '../helpers/chromium.js';
import { AUDIT_WIDTHS, auditView } from '../helpers/page-audit.js';
import type { TestGateway } from '../helpers/test-gateway.js';
import { connectLabels, startCampaignGateway, until, type FakeLabel } from '../integration/campaign-labels.js';
import { watchCspViolations } from './csp-violations.js';

const MILK = '4000000000017';
const CHOCOLATE = '4000000000031';

describe.skipIf(!haveChromium)('staff page: KPIs', () => {
  let gw: TestGateway;
  let browser: Browser;
  let labels: FakeLabel[] = [];
  let kpis: KpisAnswer;

  const kpisOf = async (days: number): Promise<KpisAnswer> => (await (await gw.api(`/api/kpis?days=${days}`)).json()) as KpisAnswer;

  beforeAll(async () => {
    // a store far from UTC: its KPI days are its own (the page says whose)
    gw = await startCampaignGateway({ overrides: { store: { timeZone: 'America/Chicago' } } });
    // oat milk on shelf-a/1 (1040 g a unit): low at 2, restocked at 10
    const shelf = await gw.connectDevice('shelf-a', 'shelf');
    const units = (n: number) =>
      shelf.publishAsync('store/test-store/shelf/shelf-a/weight', JSON.stringify({ facing: 1, weightG: n * 1040, ts: Date.now() }), {
        qos: 1,
      });
    const lowStock = async () => ((await (await gw.api('/api/alerts?kind=low-stock&state=all')).json()) as { alerts: Alert[] }).alerts;
    await units(10);
    await units(2);
    const opened = await until('the low-stock alert', async () => (await lowStock()).find((alert) => alert.state !== 'resolved'));
    await units(10);
    await until('the restock to resolve it', async () => (await lowStock()).find((a) => a.id === opened.id && a.state === 'resolved'));
    await shelf.endAsync();

    // milk confirms on esl-m1 and esl-m2; chocolate's esl-c1 refuses: 2 of 3
    labels = await connectLabels(gw, ['esl-c1']);
    const created = await gw.api('/api/campaigns', {
      method: 'POST',
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
      const view = (await (await gw.api('/api/campaigns/kpi-1')).json()) as CampaignView;
      return view.finishedAt === undefined ? undefined : view;
    });
    kpis = await until('the KPIs', async () => {
      const current = await kpisOf(7);
      return current.timeToReplenish.count === 1 && current.priceUpdates.confirmed + current.priceUpdates.failed === 3
        ? current
        : undefined;
    });
    browser = await launchChromium();
  }, 40_000);
  afterAll(async () => {
    await browser?.close();
    for (const label of labels) await label.client.endAsync();
    await gw?.dispose();
  });

  async function openKpis(token: string) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const csp = watchCspViolations(page);
    await page.goto(`${gw.httpUrl}/#token=${encodeURIComponent(token)}`);
    // a loaded 2-core machine may take a few seconds for the snapshot and the stream
    await expect.poll(() => page.getByTestId('stream-state').textContent(), { timeout: 10_000 }).toMatch(/live/i);
    await page.evaluate(() => (location.hash = '#/kpis'));
    await expect.poll(() => page.getByTestId('kpi-tile-price-success').count(), { timeout: 10_000 }).toBe(1);
    return { page, pageErrors, cspViolations: () => csp.list(), close: () => context.close() };
  }

  const tileValue = (page: Page, id: string) => page.getByTestId(`kpi-tile-${id}`).getByTestId('kpi-value').textContent();
  const tableRows = (page: Page, id: string) => page.getByTestId(`kpi-table-${id}`).locator('tbody tr');

  it('shows the numbers /api/kpis returns as tiles and a chart with a table per day series', async () => {
    const vera = await gw.addToken('vera', 'viewer');
    const { page, pageErrors, cspViolations, close } = await openKpis(vera);

    expect(await tileValue(page, 'price-success')).toBe('66.7 %');
    expect(await page.getByTestId('kpi-tile-price-success').textContent()).toContain('2 labels confirmed, 1 failed');
    expect(await tileValue(page, 'replenish-mean')).toBe(formatDuration(kpis.timeToReplenish.meanMs));
    expect(await tileValue(page, 'replenish-p90')).toBe(formatDuration(kpis.timeToReplenish.p90Ms));
    expect(await page.getByTestId('kpi-tile-replenish-mean').textContent()).toContain('over 1 restock');
    expect(await tileValue(page, 'price-mismatches')).toBe('0');
    // the shelf KPIs the gateway has (issue 24) are tiles too
    expect(kpis.onShelfAvailability).toBeDefined();
    expect(await tileValue(page, 'on-shelf')).toBe(formatPercent(kpis.onShelfAvailability?.percent ?? null));

    // every day of the window is a row; today's time to replenish and price updates are the API's
    const today = kpis.timeToReplenishPerDay.at(-1);
    expect(await tableRows(page, 'replenish').count()).toBe(kpis.timeToReplenishPerDay.length);
    expect(await tableRows(page, 'price-success').last().textContent()).toBe(`${today?.day}66.7 %`);
    // uPlot draws in an effect after the render: the canvas comes a frame later
    await expect.poll(() => page.getByTestId('kpi-chart-replenish').locator('canvas').count(), { timeout: 10_000 }).toBe(1);
    expect(await page.getByTestId('kpi-chart-stock-out-rate').count()).toBe(1);
    await until("the note names the store's time zone", async () =>
      ((await page.locator('.kpis__note').textContent()) ?? '').includes('(America/Chicago)') ? true : undefined,
    );

    // a longer window: asked again, every day a row
    await page.getByTestId('kpi-window-30').click();
    expect(await page.getByTestId('kpi-window-30').getAttribute('aria-pressed')).toBe('true');
    const month = await kpisOf(30);
    await expect.poll(() => tableRows(page, 'replenish').count()).toBe(month.timeToReplenishPerDay.length);
    expect(month.timeToReplenishPerDay.length).toBeGreaterThanOrEqual(30);

    for (const width of AUDIT_WIDTHS) expect(await auditView(page, 'kpis', width), `at ${width} px`).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(await cspViolations()).toEqual([]);
    await close();
  });
});
