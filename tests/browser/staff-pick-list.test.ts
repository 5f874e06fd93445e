/**
 * The pick list in real Chromium against a real gateway with a laid-out planogram: grouped by aisle, the empty facing
 * first when the clerk asks for the most urgent first, units to bring and product names; it follows the shelves
 * without a reload; no serious axe finding at phone, tablet and desktop widths.
 */
import type { Browser } from 'playwright-core';
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

describe.skipIf(!haveChromium)('staff page: pick list', () => {
  let gw: TestGateway;
  let browser: Browser;

  beforeAll(async () => {
    gw = await startTestGateway({ planogram: LAID_OUT });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.dispose();
  });

  it('lists the empty facing first with what to bring, by aisle, and follows a restock', async () => {
    const shelfA = await gw.connectDevice('shelf-a', 'shelf');
    const shelfB = await gw.connectDevice('shelf-b', 'shelf');
    const weigh = (client: typeof shelfA, shelfId: string, facing: number, weightG: number) =>
      client.publishAsync(`store/test-store/shelf/${shelfId}/weight`, JSON.stringify({ facing, weightG, ts: Date.now() }), { qos: 1 });
    await weigh(shelfA, 'shelf-a', 1, 2 * 1040); // oat milk: 2 of 10, low
    await weigh(shelfA, 'shelf-a', 2, 8 * 520); // espresso: full
    await weigh(shelfB, 'shelf-b', 1, 0); // chocolate: empty

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const csp = watchCspViolations(page);
    const clerk = await gw.addToken('clerk', 'staff');
    await page.goto(`${gw.httpUrl}/#token=${clerk}`);
    await page.getByTestId('tab-pick-list').click();

    const lines = page.getByTestId('pick-line');
    await expect.poll(() => lines.count(), { timeout: 10_000 }).toBe(2);
    // grouped by aisle (walking order of the aisle numbers), and within the whole list the empty facing leads
    const groups = page.getByTestId('pick-group');
    expect(await groups.evaluateAll((els) => els.map((e) => e.getAttribute('data-aisle')))).toEqual(['1', '2']);
    expect(await groups.nth(1).locator('h3').textContent()).toBe('Aisle 2 · Sweets');
    const empty = page.locator('[data-testid="pick-line"][data-urgency="empty"]');
    expect(await empty.getAttribute('data-shelf-id')).toBe('shelf-b');
    expect(await empty.textContent()).toMatch(/Empty.*Dark chocolate 100 g.*Bring 20/);
    const low = page.locator('[data-testid="pick-line"][data-urgency="low"]');
    expect(await low.textContent()).toMatch(/Low.*Oat milk 1 l.*Bring 8/);
    // most urgent first: one list, the empty facing leads, each line naming its aisle
    await page.getByTestId('pick-order-urgency').click();
    await expect.poll(() => lines.first().getAttribute('data-urgency')).toBe('empty');
    expect(await lines.first().getAttribute('data-shelf-id')).toBe('shelf-b');
    expect(await lines.first().textContent()).toContain('aisle 2, shelf shelf-b');
    expect(await page.getByTestId('pick-order-urgency').getAttribute('aria-pressed')).toBe('true');
    expect(page.url()).toContain('order=urgency');
    expect(await page.getByTestId('pick-list-summary').textContent()).toContain('2 facings to restock, 28 units to bring');

    for (const width of AUDIT_WIDTHS) expect(await auditView(page, 'pick-list', width), `axe at ${width} px`).toEqual([]);
    await page.getByTestId('pick-order-aisle').click();
    await expect.poll(() => groups.count()).toBe(2);

    // restocked: the line leaves the list without a reload (fetched again after the stock change settles)
    await weigh(shelfB, 'shelf-b', 1, 20 * 105);
    await expect.poll(() => lines.count(), { timeout: 10_000 }).toBe(1);
    expect(await lines.first().getAttribute('data-shelf-id')).toBe('shelf-a');

    // printed, the page's frame is left off and the list stays
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('.tabs').isVisible()).toBe(false);
    expect(await lines.first().isVisible()).toBe(true);
    await page.emulateMedia({ media: 'screen' });

    expect(pageErrors).toEqual([]);
    expect(await csp.list()).toEqual([]);
    await context.close();
  });
});
