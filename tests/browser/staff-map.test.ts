/**
 * The store map in real Chromium against a real gateway whose planogram has a layout: shelves in their aisles, a low
 * facing in its colour and in words, a facing's history as a chart with points, and no serious axe finding at phone,
 * tablet and desktop widths, all under the page's Content-Security-Policy.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveChromium, launchChromium } from '../helpers/chromium.js';
import { AUDIT_WIDTHS, auditView } from '../helpers/page-audit.js';
import { startTestGateway, TEST_PLANOGRAM, type TestGateway } from '../helpers/test-gateway.js';
import { watchCspViolations } from './csp-violations.js';

const LAID_OUT = {
  ...TEST_PLANOGRAM,
  layout: [
    { aisle: '1', name: 'Dairy and coffee', left: ['shelf-a'] },
    { aisle: '2', name: 'Sweets', right: ['shelf-b'] },
  ],
};
const OAT_MILK_G = 1040;

const facingRow = (page: Page, shelfId: string, facing: number) =>
  page.locator(`[data-testid="facing-row"][data-shelf-id="${shelfId}"][data-facing="${facing}"]`);

describe.skipIf(!haveChromium)('staff page: store map', () => {
  let gw: TestGateway;
  let browser: Browser;
  /** the gateway's clock: readings minutes apart (history keeps one point per facing and minute), then real time */
  let pastClock: number | undefined;

  beforeAll(async () => {
    gw = await startTestGateway({ planogram: LAID_OUT, now: () => pastClock ?? Date.now() });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.dispose();
  });

  it('places shelves by aisle, shows a low facing in colour and words, and opens its history as a chart', async () => {
    const shelf = await gw.connectDevice('shelf-a', 'shelf');
    const publishUnits = async (units: number, minutesAgo?: number) => {
      pastClock = minutesAgo === undefined ? undefined : Date.now() - minutesAgo * 60_000;
      const seen = (async () => {
        for (let i = 0; i < 200 && gw.built.stock.stock.get('shelf-a', 1)?.units !== units; i++)
          await new Promise((r) => setTimeout(r, 25));
      })();
      await shelf.publishAsync(
        'store/test-store/shelf/shelf-a/weight',
        JSON.stringify({ facing: 1, weightG: units * OAT_MILK_G, ts: Date.now() }),
        {
          qos: 1,
        },
      );
      await seen;
    };
    // a few changes of units, so the facing has a history to draw
    for (const [i, units] of [10, 7, 4, 1].entries()) await publishUnits(units, 100 - 20 * i);

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const csp = watchCspViolations(page);
    const viewer = await gw.addToken('wall screen', 'viewer');
    await page.goto(`${gw.httpUrl}/#token=${viewer}`);
    await page.getByTestId('tab-map').click();

    // the layout's aisles, in walking order, each with its shelf
    await expect
      .poll(() => page.getByTestId('aisle').evaluateAll((els) => els.map((e) => e.getAttribute('data-aisle'))))
      .toEqual(['1', '2']);
    expect(await page.getByTestId('aisle').first().textContent()).toContain('Aisle 1 · Dairy and coffee');
    expect(await page.locator('[data-testid="aisle"][data-aisle="2"] [data-testid="shelf-card"]').getAttribute('data-shelf-id')).toBe(
      'shelf-b',
    );
    expect(await page.getByTestId('map-legend').textContent()).toContain('Low: at or below its low mark');

    // the low facing: its colour (the fill class) and its words
    const low = facingRow(page, 'shelf-a', 1);
    await expect.poll(() => low.getAttribute('data-fill')).toBe('low');
    expect(await low.getAttribute('class')).toContain('facing--low');
    expect(await low.getByTestId('facing-level').textContent()).toBe('Low');
    expect(await low.textContent()).toContain('Oat milk 1 l');
    expect(await low.textContent()).toContain('1 / 10');
    // the low-stock alert the gateway opened is named on the facing
    await expect.poll(() => low.getAttribute('data-alerts'), { timeout: 10_000 }).toBe('open');
    // in the gateway's count (low stock, and a predicted stock-out when insight saw it drain that fast)
    const openAlertWords = async () => {
      const body = (await (await gw.api('/api/alerts?state=active')).json()) as { alerts: { shelfId?: string; facing?: number }[] };
      const open = body.alerts.filter((a) => a.shelfId === 'shelf-a' && a.facing === 1).length;
      return open === 1 ? '1 open alert' : `${open} open alerts`;
    };
    await expect.poll(async () => (await low.getByTestId('facing-alerts').textContent()) === (await openAlertWords())).toBe(true);
    // a facing without a reading says so
    expect(await facingRow(page, 'shelf-b', 1).getByTestId('facing-level').textContent()).toBe('No reading yet');

    // a live change reaches the facing without a reload
    await publishUnits(0);
    await expect.poll(() => low.getAttribute('data-fill')).toBe('empty');
    expect(await low.getByTestId('facing-level').textContent()).toBe('Empty');

    // the history is written behind (batched): once the gateway serves the empty minute too, the chart must draw all 5
    await expect
      .poll(async () => ((await (await gw.api('/api/facings/shelf-a/1/history')).json()) as { points: unknown[] }).points.length, {
        timeout: 10_000,
      })
      .toBeGreaterThanOrEqual(5);
    // keyboard: the facing is a button; Enter opens its history
    await low.focus();
    await page.keyboard.press('Enter');
    const history = page.getByTestId('facing-history');
    await expect.poll(() => history.isVisible()).toBe(true);
    expect(await history.locator('h3').textContent()).toContain('Oat milk 1 l');
    const chart = page.getByTestId('history-chart');
    await expect.poll(async () => Number(await chart.getAttribute('data-points')), { timeout: 10_000 }).toBeGreaterThanOrEqual(5);
    // uPlot draws in an effect after the render that set data-points: the canvas comes a frame later
    await expect.poll(() => chart.locator('canvas').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId('history-summary').textContent()).toMatch(/between 0 and 10 units.*Now: 0 of 10 units/);
    expect(page.url()).toContain('#/map?facing=shelf-a%2F1');

    await page.getByTestId('history-range-168').click();
    await expect.poll(() => page.getByTestId('history-summary').textContent()).toContain('last 7 days');
    // the open history follows the facing: fetched again once its units settle
    await publishUnits(5);
    await expect.poll(() => page.getByTestId('history-summary').textContent(), { timeout: 10_000 }).toContain('Now: 5 of 10 units');

    for (const width of AUDIT_WIDTHS) expect(await auditView(page, 'map', width), `axe at ${width} px`).toEqual([]);

    await page.getByTestId('history-close').click();
    await expect.poll(() => history.count()).toBe(0);
    expect(pageErrors).toEqual([]);
    expect(await csp.list()).toEqual([]);
    await context.close();
  });
});
