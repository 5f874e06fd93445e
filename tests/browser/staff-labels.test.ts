/**
 * The staff page's Labels view in real Chromium against a real gateway with direct MQTT labels (campaign-labels.ts:
 * they ack every price with the price shown): after a campaign confirms 2.09 on the milk labels, one reports showing
 * the old price; it is listed first, failed, with both prices in the store's money; "problems only" keeps the labels
 * that need attention; a manager moves a label to another facing after confirming it; a viewer gets no such button;
 * no serious axe violation at phone, tablet and desktop width (screenshots in tests/browser/screenshots/).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabelList } from '../../edge/labels/label-routes.js';
import { haveChromium, launchChromium } from '../helpers/chromium.js';
import { AUDIT_WIDTHS, auditView } from '../helpers/page-audit.js';
import { TEST_PLANOGRAM, eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { CAMPAIGN_PLANOGRAM, connectLabels, type FakeLabel } from '../integration/campaign-labels.js';
import { watchCspViolations } from './csp-violations.js';

const MILK = '4000000000017';

describe.skipIf(!haveChromium)('staff page: labels', () => {
  let gw: TestGateway;
  let browser: Browser;
  let labels: FakeLabel[];

  const labelList = async (query = ''): Promise<LabelList> => (await (await gw.api(`/api/labels${query}`)).json()) as LabelList;

  beforeAll(async () => {
    gw = await startTestGateway({ planogram: CAMPAIGN_PLANOGRAM });
    labels = await connectLabels(gw, [], ['esl-m1', 'esl-m2', 'esl-b1']);
    const created = await gw.api('/api/campaigns', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'milk-209', prices: [{ sku: MILK, priceCents: 209 }] }),
    });
    expect(created.status).toBe(201);
    await eventually(
      async () => {
        const milk = (await labelList()).labels.filter((label) => label.sku === MILK);
        return milk.length === 2 && milk.every((label) => label.confirmedPriceCents === 209) ? milk : undefined;
      },
      10_000,
      'both milk labels to confirm 2.09',
    );
    // esl-m2's display was swapped for one showing the old price: it reports 1.89 with its battery
    await labels[1]!.client.publishAsync(
      'store/test-store/esl/esl-m2/status',
      JSON.stringify({ batteryMv: 2_870, displayedPriceCents: 189, ts: Date.now() }),
      { qos: 1 },
    );
    await labels[2]!.client.publishAsync(
      'store/test-store/esl/esl-b1/status',
      JSON.stringify({ batteryMv: 2_950, displayedPriceCents: 799, ts: Date.now() }),
      { qos: 1 },
    );
    await eventually(
      async () => ((await labelList('?problems=true')).labels[0]?.labelId === 'esl-m2' ? true : undefined),
      5_000,
      'esl-m2 to fail',
    );
    browser = await launchChromium();
  }, 40_000);
  afterAll(async () => {
    await browser?.close();
    for (const label of labels ?? []) await label.client.endAsync();
    await gw?.dispose();
  });

  async function openLabels(token: string, on: TestGateway = gw) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const csp = watchCspViolations(page);
    await page.goto(`${on.httpUrl}/#token=${encodeURIComponent(token)}`);
    await expect.poll(() => page.getByTestId('stream-state').textContent()).toMatch(/live/i);
    await page.getByTestId('tab-labels').click();
    await expect.poll(() => page.getByTestId('label-row').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    return { page, pageErrors, cspViolations: () => csp.list(), close: () => context.close() };
  }

  const rows = (page: Page) =>
    page
      .getByTestId('label-row')
      .evaluateAll((items) => items.map((item) => `${item.getAttribute('data-label-id')}:${item.getAttribute('data-problem')}`));

  it('lists the failed label first with both prices, by product name; problems only keeps those needing attention', async () => {
    const viewer = await gw.addToken('vera', 'viewer');
    const { page, pageErrors, cspViolations, close } = await openLabels(viewer);
    // worst first, then by shelf and facing: esl-m1 (shelf-a/1) before esl-b1 (shelf-a/2)
    expect(await rows(page)).toEqual(['esl-m2:failed', 'esl-c1:never-seen', 'esl-m1:ok', 'esl-b1:ok']);
    const first = page.getByTestId('label-row').first();
    expect(await first.getByRole('heading').textContent()).toBe('Oat milk 1 l');
    expect(await first.getByTestId('label-reason').textContent()).toMatch(/^Shows \D*1[.,]89\D*, but \D*2[.,]09\D* was confirmed/);
    expect(await first.getByTestId('label-price').textContent()).toMatch(/1[.,]89.*\(confirmed .*2[.,]09.*\)/);
    expect(await first.textContent()).toContain('2.87 V');
    // a viewer may look, not move labels
    expect(await page.getByTestId('label-bind').count()).toBe(0);

    for (const width of AUDIT_WIDTHS) expect(await auditView(page, 'labels', width)).toEqual([]);

    await page.getByTestId('labels-show-problems').click();
    await expect.poll(() => rows(page)).toEqual(['esl-m2:failed', 'esl-c1:never-seen']);
    expect(await page.evaluate(() => location.hash)).toBe('#/labels?show=problems');
    await page.getByTestId('labels-driver').selectOption('mqtt-esl');
    await expect.poll(() => rows(page)).toEqual(['esl-m2:failed']);
    expect(pageErrors).toEqual([]);
    expect(await cspViolations()).toEqual([]);
    await close();
  }, 60_000);

  it('a manager sends the confirmed price again to the failed label; it shows it and is fine again', async () => {
    const manager = await gw.addToken('max', 'manager');
    const { page, pageErrors, close } = await openLabels(manager);
    const row = page.locator('[data-testid="label-row"][data-label-id="esl-m2"]');
    // only the failed label offers it
    expect(await page.getByTestId('label-send-again').count()).toBe(1);
    await row.getByTestId('label-send-again').click();
    expect(await row.textContent()).toMatch(/Send \D*2[.,]09\D* again to label esl-m2\? Every label of campaign milk-209/);
    const sentBefore = labels[1]!.commands.length;
    await row.getByTestId('label-send-again-confirm').click();
    await eventually(
      async () => ((await labelList()).labels.find((label) => label.labelId === 'esl-m2')?.problem === 'ok' ? true : undefined),
      10_000,
      'esl-m2 to show 2.09 again',
    );
    // a new command reached the label (the first campaign's was its last until now)
    expect(labels[1]!.commands.length).toBeGreaterThan(sentBefore);
    expect(labels[1]!.commands.at(-1)).toEqual({ sku: MILK, priceCents: 209 });
    // the view reads the list again shortly after the send, without a reload
    await expect.poll(() => row.getAttribute('data-problem'), { timeout: 10_000 }).toBe('ok');
    expect(pageErrors).toEqual([]);
    await close();
  }, 40_000);

  it('a manager moves a label to another facing after confirming it; the gateway binds it there', async () => {
    const manager = await gw.addToken('mona', 'manager');
    const { page, pageErrors, close } = await openLabels(manager);
    const row = page.locator('[data-testid="label-row"][data-label-id="esl-b1"]');
    await row.getByTestId('label-bind').click();
    await row.getByTestId('label-bind-facing').selectOption('shelf-b/1');
    await row.getByTestId('label-bind-ask').click();
    expect(await row.textContent()).toMatch(/Move label esl-b1 to Dark chocolate 100 g \(shelf-b \/ facing 1\)\?/);
    // the open form on a phone: still no serious violation, and nothing wider than the screen
    expect(await auditView(page, 'labels-move', 390)).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await row.getByTestId('label-bind-confirm').click();
    const moved = await eventually(
      async () => (await labelList()).labels.find((label) => label.labelId === 'esl-b1' && label.shelfId === 'shelf-b'),
      5_000,
      'esl-b1 bound to shelf-b/1',
    );
    expect(moved).toMatchObject({ facing: 1, bindingSource: 'api', productName: 'Dark chocolate 100 g' });
    // the list is read again: the row now names its new product
    await expect
      .poll(() => page.locator('[data-testid="label-row"][data-label-id="esl-b1"]').getByRole('heading').textContent())
      .toBe('Dark chocolate 100 g');
    expect(pageErrors).toEqual([]);
    await close();
  }, 40_000);

  it('a large store: 50 labels on a page, the pager walks through the rest', async () => {
    const bound = Array.from({ length: 120 }, (_, i) => ({
      label: `esl-${String(i + 1).padStart(3, '0')}`,
      shelfId: 'shelf-a',
      facing: 1,
    }));
    const large = await startTestGateway({ planogram: { ...TEST_PLANOGRAM, labels: bound } });
    try {
      const { page, pageErrors, close } = await openLabels(await large.addToken('vera', 'viewer'), large);
      const range = page.getByTestId('labels-range');
      await expect.poll(() => range.textContent()).toBe('1–50 of 120');
      expect(await page.getByTestId('label-row').count()).toBe(50);
      expect(await page.getByTestId('labels-previous').isDisabled()).toBe(true);
      await page.getByTestId('labels-next').click();
      await expect.poll(() => range.textContent()).toBe('51–100 of 120');
      expect(await page.getByTestId('label-row').first().getAttribute('data-label-id')).toBe('esl-051');
      expect(await page.evaluate(() => location.hash)).toBe('#/labels?page=2');
      await page.getByTestId('labels-next').click();
      await expect.poll(() => range.textContent()).toBe('101–120 of 120');
      expect(await page.getByTestId('label-row').count()).toBe(20);
      expect(await page.getByTestId('labels-next').isDisabled()).toBe(true);
      expect(pageErrors).toEqual([]);
      await close();
    } finally {
      await large.dispose();
    }
  }, 60_000);
});
