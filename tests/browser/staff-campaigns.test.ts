/**
 * The staff page's Campaigns view in real Chromium (Debian package, driven by playwright-core) against a real gateway
 * with simulated MQTT shelf labels (devices/esl-simulator.ts) that display the price and ack it: a manager uploads a
 * CSV and watches the campaign, named by its file, reach 100 % with every label confirmed; a CSV with bad rows lists
 * each one with its line; a label that refuses the price is listed with its reason and sent again as a new campaign;
 * a manager cancels a scheduled campaign after confirming; a staff token gets no upload control or actions but sees
 * the progress (and the campaign's title) from the live stream; no serious axe violation at phone, tablet and desktop
 * width (screenshots in tests/browser/screenshots/).
 */
import type { Browser, Page } from 'playwright-core';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EslSimulator } from '../../devices/esl-simulator.js';
import { seededRandom } from '../../devices/random.js';
import type { CampaignView } from '../../edge/campaigns/campaign.js';
import type { TestGateway } from '../helpers/test-gateway.js';
import { startCampaignGateway } from '../integration/campaign-labels.js';
import { haveChromium, launchChromium } from '../helpers/chromium.js';
import { AUDIT_WIDTHS, auditView } from '../helpers/page-audit.js';
import { watchCspViolations } from './csp-violations.js';

const MILK = '4000000000017';
const BEANS = '4000000000024';
const CHOCOLATE = '4000000000031';

describe.skipIf(!haveChromium)('staff page: campaigns', () => {
  let gw: TestGateway;
  let browser: Browser;
  const labels = new Map<string, EslSimulator>();

  beforeAll(async () => {
    gw = await startCampaignGateway();
    // esl-c1 sits on the chocolate facing but believes it shows milk: it refuses chocolate prices ("sku mismatch")
    const skuOf: Record<string, string> = { 'esl-m1': MILK, 'esl-m2': MILK, 'esl-b1': BEANS, 'esl-c1': MILK };
    let seed = 1;
    for (const [deviceId, sku] of Object.entries(skuOf)) {
      const label = new EslSimulator({
        brokerUrl: gw.mqttUrl,
        storeId: 'test-store',
        deviceId,
        secret: await gw.built.devices.registry.provision(deviceId, 'esl'),
        logger: pino({ level: 'silent' }),
        random: seededRandom(seed++),
        sku,
        priceCents: 100,
        displayDelayMinMs: 10,
        displayDelayMaxMs: 80,
      });
      await label.start();
      labels.set(deviceId, label);
    }
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    for (const label of labels.values()) await label.stop();
    await gw?.dispose();
  });

  async function openPage(
    token: string,
  ): Promise<{ page: Page; pageErrors: string[]; cspViolations: () => Promise<string[]>; close: () => Promise<void> }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const csp = watchCspViolations(page);
    await page.goto(`${gw.httpUrl}/#token=${encodeURIComponent(token)}`);
    // a loaded 2-core machine may take a few seconds for the snapshot and the stream
    await expect.poll(() => page.getByTestId('stream-state').textContent(), { timeout: 10_000 }).toMatch(/live/i);
    await page.evaluate(() => (location.hash = '#/campaigns'));
    await expect.poll(() => page.getByRole('heading', { level: 2, name: 'Campaigns' }).isVisible(), { timeout: 5_000 }).toBe(true);
    return { page, pageErrors, cspViolations: () => csp.list(), close: () => context.close() };
  }

  const upload = (page: Page, name: string, csv: string) =>
    page
      .getByTestId('price-file')
      .setInputFiles({ name, mimeType: 'text/csv', buffer: Buffer.from(csv) })
      .then(() => page.getByRole('button', { name: 'Upload prices' }).click());

  const campaigns = async (): Promise<CampaignView[]> =>
    ((await (await gw.api('/api/campaigns')).json()) as { campaigns: CampaignView[] }).campaigns;

  it('a manager uploads a CSV and watches the campaign reach 100 % with every label confirmed', async () => {
    const maria = await gw.addToken('maria', 'manager');
    const { page, pageErrors, cspViolations, close } = await openPage(maria);
    expect(await page.getByTestId('signed-in-as').textContent()).toBe('maria (manager)');
    await expect.poll(() => page.getByTestId('price-upload').isVisible()).toBe(true);

    await upload(page, 'prices.csv', `sku,priceCents\n${MILK},219\n${BEANS},899\n`);
    const item = page.getByTestId('campaign-item');
    await expect.poll(() => item.count()).toBe(1);
    await expect.poll(() => item.getByTestId('campaign-percent').textContent(), { timeout: 10_000 }).toBe('100 %');
    await expect.poll(() => item.getAttribute('data-state')).toBe('done');
    // by its file's name, who and how many skus; its state in words
    expect(await item.getByTestId('campaign-name').textContent()).toBe('prices.csv');
    expect(await item.getByTestId('campaign-state').textContent()).toBe('Done');
    expect(await item.getByTestId('campaign-skus').textContent()).toBe('2 skus');
    expect(await item.textContent()).toContain('by maria');
    expect(await item.getByTestId('campaign-total').textContent()).toBe('3 labels');
    expect(await item.locator('[data-label-state="confirmed"]').textContent()).toBe('3 confirmed');
    expect(await item.locator('[data-label-state="failed"]').textContent()).toBe('0 failed');
    expect(await page.getByTestId('csv-result').textContent()).toContain('1 campaign started for 3 labels');
    expect(await page.getByTestId('csv-problems').textContent()).toBe('');

    // the page shows what the gateway tracked, and the labels really display the new prices
    const [created] = await campaigns();
    expect(created).toMatchObject({ name: 'prices.csv', skus: 2, state: 'done', createdBy: 'maria', counts: { confirmed: 3 } });
    expect(await item.getAttribute('data-campaign-id')).toBe(created?.id);
    expect([labels.get('esl-m1'), labels.get('esl-m2'), labels.get('esl-b1')].map((label) => label?.displayedPriceCents)).toEqual([
      219, 219, 899,
    ]);
    expect(pageErrors).toEqual([]);
    expect(await cspViolations()).toEqual([]);
    await close();
  });

  it('a CSV with bad rows lists every bad row with its line, and starts nothing', async () => {
    const before = (await campaigns()).length;
    const maria = await gw.addToken('maria-2', 'manager');
    const { page, pageErrors, cspViolations, close } = await openPage(maria);
    await upload(page, 'bad.csv', ['sku,priceCents', `${MILK},199`, 'bad sku!,100', `${BEANS},-5`, `${BEANS},12.5`].join('\n'));
    const problems = page.getByTestId('csv-problem');
    await expect.poll(() => problems.count()).toBe(3);
    expect(await problems.evaluateAll((items) => items.map((item) => (item as HTMLElement).dataset.line))).toEqual(['3', '4', '5']);
    expect(await problems.first().textContent()).toMatch(/^Line 3: \S/);
    expect(await page.getByTestId('csv-result').getAttribute('data-kind')).toBe('error');
    expect(await page.getByTestId('csv-result').textContent()).toContain('3 bad rows');
    expect((await campaigns()).length).toBe(before);
    expect(pageErrors).toEqual([]);
    expect(await cspViolations()).toEqual([]);
    await close();
  });

  it('a label that refuses the price is listed as failed with its reason, and a manager sends it again', async () => {
    const maria = await gw.addToken('maria-3', 'manager');
    const { page, pageErrors, cspViolations, close } = await openPage(maria);
    await upload(page, 'chocolate.csv', `sku,priceCents\n${CHOCOLATE},159\n`);
    await expect.poll(() => page.getByTestId('csv-result').textContent()).toContain('1 campaign started');
    const id = (await campaigns()).find((campaign) => campaign.total === 1 && campaign.counts.confirmed === 0)?.id;
    expect(id).toBeDefined();
    const item = page.locator(`[data-testid="campaign-item"][data-campaign-id="${id}"]`);
    const failed = item.locator('[data-testid="failed-label"][data-label-id="esl-c1"]');
    await expect.poll(() => failed.count(), { timeout: 30_000 }).toBe(1);
    expect(await failed.textContent()).toMatch(/SKU 4000000000031, €1\.59\): .*sku mismatch/);
    expect(await item.locator('[data-label-state="failed"]').textContent()).toBe('1 failed');
    expect(await item.getByTestId('campaign-percent').textContent()).toBe('100 %');

    // send again: asked first, then a new campaign named after this one takes the failed label
    await item.getByTestId('campaign-resend').click();
    expect(await item.getByRole('group', { name: 'Send again' }).textContent()).toContain(
      'Send the labels of chocolate.csv that failed or show another price',
    );
    await item.getByTestId('campaign-resend-confirm').click();
    let again: CampaignView | undefined;
    await expect
      .poll(async () => (again = (await campaigns()).find((campaign) => campaign.resendOf === id)), { timeout: 10_000 })
      .toBeDefined();
    expect(again).toMatchObject({ name: 'chocolate.csv (sent again)', createdBy: 'maria-3', total: 1 });
    const resent = page.locator(`[data-testid="campaign-item"][data-campaign-id="${again?.id}"]`);
    await expect.poll(() => resent.getByTestId('campaign-name').textContent()).toBe('chocolate.csv (sent again)');
    await expect.poll(() => resent.getAttribute('data-state'), { timeout: 30_000 }).toBe('done');

    for (const width of AUDIT_WIDTHS) expect(await auditView(page, 'campaigns', width), `at ${width} px`).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(await cspViolations()).toEqual([]);
    await close();
  }, 90_000);

  it('a manager cancels a scheduled campaign after confirming; the list says so', async () => {
    const maria = await gw.addToken('maria-4', 'manager');
    const { page, pageErrors, cspViolations, close } = await openPage(maria);
    const later = new Date(Date.now() + 3_600_000).toISOString();
    await upload(page, 'beans-next-week.csv', `sku,priceCents,effectiveAt\n${BEANS},949,${later}\n`);
    await expect
      .poll(() => page.getByTestId('csv-result').textContent())
      .toContain('beans-next-week.csv: 1 campaign scheduled for 1 label (from');
    const id = (await campaigns()).find((campaign) => campaign.name === 'beans-next-week.csv')?.id;
    expect(id).toBeDefined();
    const item = page.locator(`[data-testid="campaign-item"][data-campaign-id="${id}"]`);
    await expect.poll(() => item.getByTestId('campaign-state').textContent()).toBe('Scheduled');
    // no roll back before it started, no send again without failed labels
    expect(await item.getByTestId('campaign-rollback').count()).toBe(0);
    expect(await item.getByTestId('campaign-resend').count()).toBe(0);
    await item.getByTestId('campaign-cancel').click();
    // changing one's mind keeps it
    await page.getByRole('button', { name: 'Keep it as it is' }).click();
    expect(await item.getAttribute('data-state')).toBe('scheduled');
    await item.getByTestId('campaign-cancel').click();
    await item.getByTestId('campaign-cancel-confirm').click();
    await expect.poll(() => item.getAttribute('data-state')).toBe('cancelled');
    expect(await item.getByTestId('campaign-state').textContent()).toBe('Cancelled');
    expect((await campaigns()).find((campaign) => campaign.id === id)).toMatchObject({ state: 'cancelled', cancelledBy: 'maria-4' });
    expect(await item.getByTestId('campaign-cancel').count()).toBe(0);
    expect(pageErrors).toEqual([]);
    expect(await cspViolations()).toEqual([]);
    await close();
  });

  it('a manager sends a price of 0 anyway after reading why, then rolls that campaign back', async () => {
    const maria = await gw.addToken('maria-5', 'manager');
    const { page, pageErrors, cspViolations, close } = await openPage(maria);
    await upload(page, 'milk-free.csv', `sku,priceCents\n${MILK},0\n`);
    await expect.poll(() => page.getByTestId('csv-result').getAttribute('data-kind')).toBe('error');
    expect(await page.getByTestId('csv-result').textContent()).toContain('milk-free.csv was not uploaded: 1 row may be a mistake');
    expect(await page.getByTestId('csv-problem').getAttribute('data-line')).toBe('2');
    await page.getByTestId('price-upload-force').click();
    await expect.poll(() => page.getByTestId('csv-result').textContent()).toContain('milk-free.csv: 1 campaign started for 2 labels');
    const free = (await campaigns()).find((campaign) => campaign.name === 'milk-free.csv');
    const item = page.locator(`[data-testid="campaign-item"][data-campaign-id="${free?.id}"]`);
    await expect.poll(() => item.getAttribute('data-state'), { timeout: 10_000 }).toBe('done');
    expect([labels.get('esl-m1'), labels.get('esl-m2')].map((label) => label?.displayedPriceCents)).toEqual([0, 0]);

    await item.getByTestId('campaign-rollback').click();
    expect(await item.getByRole('group', { name: 'Roll back' }).textContent()).toContain('Roll back milk-free.csv?');
    await item.getByTestId('campaign-rollback-confirm').click();
    await expect.poll(() => item.getAttribute('data-state')).toBe('rolled-back');
    const rollback = (await campaigns()).find((campaign) => campaign.rollbackOf === free?.id);
    expect(rollback).toMatchObject({ name: 'rollback of milk-free.csv', createdBy: 'maria-5' });
    const back = page.locator(`[data-testid="campaign-item"][data-campaign-id="${rollback?.id}"]`);
    await expect.poll(() => back.getAttribute('data-state'), { timeout: 10_000 }).toBe('done');
    expect(await back.getByTestId('campaign-name').textContent()).toBe('rollback of milk-free.csv');
    // the labels show the price they had before: the first test's 2.19
    await expect.poll(() => [labels.get('esl-m1'), labels.get('esl-m2')].map((label) => label?.displayedPriceCents)).toEqual([219, 219]);
    expect(pageErrors).toEqual([]);
    expect(await cspViolations()).toEqual([]);
    await close();
  });

  it('a label that cannot be reached now is listed with why once the stream says it waits', async () => {
    // esl-b1 goes away (its battery is out): the gateway holds its price until it is back
    await labels.get('esl-b1')?.stop();
    const maria = await gw.addToken('maria-6', 'manager');
    const { page, pageErrors, cspViolations, close } = await openPage(maria);
    await upload(page, 'beans-offline.csv', `sku,priceCents\n${BEANS},959\n`);
    await expect.poll(() => page.getByTestId('csv-result').textContent()).toContain('beans-offline.csv: 1 campaign started for 1 label');
    const id = (await campaigns()).find((campaign) => campaign.name === 'beans-offline.csv')?.id;
    const item = page.locator(`[data-testid="campaign-item"][data-campaign-id="${id}"]`);
    // the upload's answer had it sent; the stream's progress (1 waiting) makes the page ask for the reason
    const waiting = item.locator('[data-testid="waiting-label"][data-label-id="esl-b1"]');
    await expect.poll(() => waiting.count(), { timeout: 10_000 }).toBe(1);
    expect(await waiting.textContent()).toMatch(/^Espresso beans 500 g — label esl-b1: label not reachable now/);
    expect(await item.locator('[data-label-state="waiting"]').textContent()).toBe('1 waiting for the label');
    expect(await item.getByTestId('campaign-percent').textContent()).toBe('0 %');
    expect(pageErrors).toEqual([]);
    expect(await cspViolations()).toEqual([]);
    await close();
  });

  it('lists the newest 10 campaigns first and the older ones on "show more"', async () => {
    // campaigns for skus no label shows end at once: no label traffic, just entries in the list
    for (let n = 1; n <= 5; n++) {
      const response = await gw.api('/api/campaigns', {
        method: 'POST',
        body: JSON.stringify({ title: `Not carried ${n}`, prices: [{ sku: `not-carried-${n}`, priceCents: 100 }] }),
      });
      expect(response.status).toBe(201);
    }
    const all = (await campaigns()).length;
    expect(all).toBeGreaterThan(10);
    const maria = await gw.addToken('maria-7', 'manager');
    const { page, pageErrors, close } = await openPage(maria);
    const items = page.getByTestId('campaign-item');
    await expect.poll(() => items.count()).toBe(10);
    // newest first: the last one made heads the list
    expect(await items.first().getByTestId('campaign-name').textContent()).toBe('Not carried 5');
    expect(await page.getByTestId('campaigns-more').textContent()).toBe(
      `Show more (${all - 10} older campaign${all - 10 === 1 ? '' : 's'})`,
    );
    await page.getByTestId('campaigns-more').click();
    await expect.poll(() => items.count()).toBe(all);
    expect(await page.getByTestId('campaigns-more').count()).toBe(0);
    expect(pageErrors).toEqual([]);
    await close();
  });

  it('a staff token gets no upload control, but reads the campaigns and sees one progress to 100 % on the live stream', async () => {
    const tom = await gw.addToken('tom', 'staff');
    const { page, pageErrors, cspViolations, close } = await openPage(tom);
    expect(await page.getByTestId('signed-in-as').textContent()).toBe('tom (staff)');
    expect(await page.getByTestId('price-upload').isVisible()).toBe(false);
    expect(await page.getByTestId('price-file').isVisible()).toBe(false);
    // staff read the campaigns made before the page opened (the earlier tests made some), without actions
    await expect.poll(() => page.getByTestId('campaign-item').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(await page.getByTestId('campaign-cancel').count()).toBe(0);

    const response = await gw.api('/api/campaigns', {
      method: 'POST',
      body: JSON.stringify({ id: 'live-milk', title: 'Milk from HQ', prices: [{ sku: MILK, priceCents: 229 }] }),
    });
    expect(response.status).toBe(201);
    const item = page.locator('[data-testid="campaign-item"][data-campaign-id="live-milk"]');
    await expect.poll(() => item.getByTestId('campaign-percent').textContent(), { timeout: 10_000 }).toBe('100 %');
    expect(await item.locator('[data-label-state="confirmed"]').textContent()).toBe('2 confirmed');
    // the stream names the campaign; staff get no actions on it
    expect(await item.getByTestId('campaign-name').textContent()).toBe('Milk from HQ');
    expect(await item.getByTestId('campaign-cancel').count()).toBe(0);
    expect(await item.getByTestId('campaign-rollback').count()).toBe(0);
    expect(pageErrors).toEqual([]);
    expect(await cspViolations()).toEqual([]);
    await close();
  });
});
