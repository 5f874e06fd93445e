/**
 * The staff page's alerts view in real Chromium against a real gateway: at phone, tablet and desktop widths axe-core
 * finds nothing serious; a filter by kind hides the other kinds and survives a reload (it lives in the address);
 * a snoozed alert sinks below the others; acknowledging goes through the API under the signed-in name; an emptied
 * facing is resolved under the worst it reached.
 */
import type { MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveChromium, launchChromium } from '../helpers/chromium.js';
import { AUDIT_WIDTHS, auditView, seriousViolations } from '../helpers/page-audit.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { watchCspViolations } from './csp-violations.js';

type ApiAlert = { id: string; kind: string; state: string; acknowledgedBy?: string; title: string; severity: string; units?: number };

const WEIGHT_TOPIC = 'store/test-store/shelf/shelf-a/weight';

/** how long a poll waits for the page: a page load on a busy 2-core machine can take seconds */
const PATIENCE = { timeout: 15_000 };

// each test waits on a browser and a gateway several times: room for a loaded machine
describe.skipIf(!haveChromium)('staff page: alerts view', { timeout: 60_000 }, () => {
  let gw: TestGateway;
  let browser: Browser;
  let page: Page;
  let shelf: MqttClient;
  const pageErrors: string[] = [];

  const alertIds = (p: Page) => p.getByTestId('alert-item').evaluateAll((items) => items.map((item) => item.getAttribute('data-alert-id')));
  const activeAlerts = async () => ((await (await gw.api('/api/alerts?state=active')).json()) as { alerts: ApiAlert[] }).alerts;
  const publishWeight = (facing: number, weightG: number) =>
    shelf.publishAsync(WEIGHT_TOPIC, JSON.stringify({ facing, weightG, ts: Date.now() }), { qos: 1 });

  beforeAll(async () => {
    gw = await startTestGateway();
    browser = await launchChromium();
    // three alerts of two kinds: a customer at a kiosk, an empty facing (critical) and a low one (warning)
    const kiosk = await gw.connectDevice('kiosk-7', 'kiosk');
    await kiosk.publishAsync('store/test-store/kiosk/kiosk-7/event', JSON.stringify({ type: 'assist-requested', ts: Date.now() }), {
      qos: 1,
    });
    shelf = await gw.connectDevice('shelf-a', 'shelf');
    await publishWeight(1, 1040);
    await publishWeight(2, 0);
    await eventually(async () => ((await activeAlerts()).length === 3 ? true : undefined), 10_000, 'three active alerts');
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.dispose();
  });

  it('opens with the three alerts, most urgent first, each naming its product or kiosk', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const lena = await gw.addToken('lena', 'staff');
    await page.goto(`${gw.httpUrl}/#token=${lena}`);
    await expect.poll(() => page.getByTestId('alert-item').count(), PATIENCE).toBe(3);
    const kinds = await page.getByTestId('alert-item').evaluateAll((items) => items.map((item) => item.getAttribute('data-kind')));
    // the server's rule (staffUrgency): the customer first, then the empty facing, then the low one
    expect(kinds).toEqual(['kiosk-assist', 'low-stock', 'low-stock']);
    const texts = await page.getByTestId('alert-item').allTextContents();
    expect(texts[0]).toContain('kiosk-7');
    expect(texts[1]).toContain('Espresso beans 500 g');
    expect(texts[2]).toContain('Oat milk 1 l');
    expect(await page.getByTestId('tab-alerts').getAttribute('aria-current')).toBe('page');
  });

  it('has no serious accessibility violations at 390, 820 and 1280 px (screenshots in tests/browser/screenshots)', async () => {
    // one alert's details open, so they are checked too
    await page.getByTestId('alert-expand').first().click();
    await expect.poll(() => page.getByTestId('alert-details').count(), PATIENCE).toBe(1);
    for (const width of AUDIT_WIDTHS)
      expect({ width, violations: await auditView(page, 'alerts', width) }).toEqual({ width, violations: [] });
    await page.setViewportSize({ width: 1280, height: 900 });
    // the audit finds what it should: a button without a name is a critical violation
    await page.evaluate(() => document.body.append(Object.assign(document.createElement('button'), { id: 'audit-probe' })));
    expect((await seriousViolations(page)).map((violation) => violation.id)).toContain('button-name');
    await page.evaluate(() => document.getElementById('audit-probe')?.remove());
  });

  it('a filter by kind hides the other kinds, stays in the address across a reload, and clears', async () => {
    await page.getByTestId('filter-kind').selectOption('kiosk-assist');
    await expect.poll(() => page.getByTestId('alert-item').count(), PATIENCE).toBe(1);
    expect(await page.getByTestId('alert-item').getAttribute('data-kind')).toBe('kiosk-assist');
    expect(new URL(page.url()).hash).toBe('#/alerts?kind=kiosk-assist');
    await page.reload();
    await expect.poll(() => page.getByTestId('alerts-shown').textContent(), PATIENCE).toBe('1 of 3 active alerts match the filters');
    expect(await page.getByTestId('alert-item').getAttribute('data-kind')).toBe('kiosk-assist');
    expect(await page.getByTestId('filter-kind').inputValue()).toBe('kiosk-assist');
    await page.getByTestId('filter-severity').selectOption('warning');
    await expect.poll(() => page.getByTestId('alerts-empty').textContent(), PATIENCE).toBe('No alert matches the filters.');
    await page.getByTestId('filter-clear').click();
    await expect.poll(() => page.getByTestId('alert-item').count(), PATIENCE).toBe(3);
    expect(new URL(page.url()).hash).toBe('#/alerts');
  });

  it('a snoozed alert sinks below the others; acknowledging is stored under the signed-in name', async () => {
    const before = await alertIds(page);
    const first = page.locator(`[data-testid="alert-item"][data-alert-id="${before[0]}"]`);
    await first.getByTestId('snooze-button').click();
    await expect.poll(() => first.getAttribute('data-state'), PATIENCE).toBe('snoozed');
    await expect.poll(() => alertIds(page), PATIENCE).toEqual([before[1], before[2], before[0]]);

    const low = page.locator(`[data-testid="alert-item"][data-alert-id="${before[2]}"]`);
    await low.getByTestId('ack-button').click();
    await expect.poll(() => low.getAttribute('data-state'), PATIENCE).toBe('acknowledged');
    const stored = (await activeAlerts()).find((alert) => alert.id === before[2]);
    expect(stored).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'lena' });
    expect(pageErrors).toEqual([]);
  });

  it('an emptied facing restocked in two steps is resolved under the worst it reached: "Out of stock", not "1 left"', async () => {
    const espresso = page.locator('[data-testid="alert-item"]', { hasText: 'Espresso beans 500 g' });
    // one unit back (still low): the alert's units follow, it stays critical and "Out of stock"
    await publishWeight(2, 520);
    const eased = await eventually(
      async () => (await activeAlerts()).find((alert) => alert.title.includes('Espresso') && alert.units === 1),
      15_000,
      'the Espresso alert at 1 unit',
    );
    expect(eased).toMatchObject({ severity: 'critical', title: expect.stringMatching(/^Out of stock: Espresso/) as string });
    await expect.poll(() => espresso.getAttribute('data-severity'), PATIENCE).toBe('critical');
    // restocked: resolved by the system, listed under recently resolved with its worst title
    for (let i = 0; i < 3; i++) await publishWeight(2, 8 * 520);
    await expect.poll(() => espresso.count(), PATIENCE).toBe(0);
    const resolved = page.getByTestId('resolved-item').filter({ hasText: 'Espresso beans 500 g' });
    await expect.poll(() => resolved.count(), PATIENCE).toBe(1);
    expect(await resolved.textContent()).toMatch(/^Out of stock: Espresso beans 500 g/);
    expect(await resolved.getAttribute('data-severity')).toBe('critical');
  });

  it('runs under the Content-Security-Policy with nothing refused', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 800 } });
    const phone = await context.newPage();
    const csp = watchCspViolations(phone);
    await phone.goto(`${gw.httpUrl}/#token=${await gw.addToken('omar', 'staff')}`);
    // the two alerts still active after the restock above
    await expect.poll(() => phone.getByTestId('alert-item').count(), PATIENCE).toBe(2);
    expect(await csp.list()).toEqual([]);
    await context.close();
  });

  it('the kiosk chime and notification are off until switched on; then a customer at a kiosk raises one', async () => {
    const context = await browser.newContext({ viewport: { width: 820, height: 900 } });
    const tablet = await context.newPage();
    // a stand-in for the browser's notifications that records what the page shows and grants permission when asked
    await tablet.addInitScript(() => {
      const shown: { title: string; body: string }[] = [];
      Object.assign(window, { shownNotifications: shown });
      class RecordingNotification {
        static permission: NotificationPermission = 'default';
        static requestPermission = () => {
          RecordingNotification.permission = 'granted';
          return Promise.resolve(RecordingNotification.permission);
        };
        constructor(title: string, options?: NotificationOptions) {
          shown.push({ title, body: options?.body ?? '' });
        }
      }
      Object.defineProperty(window, 'Notification', { value: RecordingNotification, configurable: true });
    });
    const shown = () =>
      tablet.evaluate(() => (window as unknown as { shownNotifications: { title: string; body: string }[] }).shownNotifications);
    await tablet.goto(`${gw.httpUrl}/#token=${await gw.addToken('pia', 'staff')}`);
    const toggle = tablet.getByTestId('kiosk-notify');
    await expect.poll(() => toggle.getAttribute('aria-pressed'), PATIENCE).toBe('false');
    await expect.poll(() => tablet.getByTestId('stream-state').getAttribute('data-state'), PATIENCE).toBe('live');

    const raise = async (kioskId: string) => {
      const kiosk = await gw.connectDevice(kioskId, 'kiosk');
      await kiosk.publishAsync(`store/test-store/kiosk/${kioskId}/event`, JSON.stringify({ type: 'assist-requested', ts: Date.now() }), {
        qos: 1,
      });
      await expect.poll(() => tablet.locator('[data-testid="alert-item"]', { hasText: kioskId }).count(), PATIENCE).toBe(1);
    };
    // off: the alert is on the page (the notification would have come with it) and nothing was shown
    await raise('kiosk-21');
    expect(await shown()).toEqual([]);

    await toggle.click();
    await expect.poll(() => toggle.getAttribute('aria-pressed'), PATIENCE).toBe('true');
    await raise('kiosk-22');
    await expect
      .poll(shown, PATIENCE)
      .toEqual([{ title: 'Customer waiting at a kiosk', body: expect.stringContaining('kiosk-22') as string }]);
    await context.close();
  });

  it("folds a facing's stock-out prediction into its low-stock line; alone (filtered), it has a line of its own", async () => {
    const oatMilk = (await activeAlerts()).find((alert) => alert.kind === 'low-stock' && alert.title.includes('Oat milk')) as
      (ApiAlert & { shelfId: string; facing: number; sku: string }) | undefined;
    expect(oatMilk).toBeDefined();
    const { shelfId, facing, sku } = oatMilk as { shelfId: string; facing: number; sku: string };
    const rowsBefore = await page.getByTestId('alert-item').count();
    const { alert: prediction } = gw.built.alerts.service.raise({
      kind: 'stock-out-predicted',
      key: `stock-out-predicted:${shelfId}/${facing}`,
      severity: 'warning',
      title: 'Oat milk 1 l will run out by 14:35: bring 9 (1 left)',
      shelfId,
      facing,
      sku,
      units: 9,
    });
    const line = page.locator(`[data-testid="alert-item"][data-alert-id="${oatMilk?.id}"]`);
    await expect.poll(() => line.getByTestId('alert-prediction').textContent(), PATIENCE).toBe(prediction.title);
    // one line per thing to do: no line of its own, though the count names every active alert
    expect(await page.getByTestId('alert-item').count()).toBe(rowsBefore);
    expect(await page.locator('[data-testid="alert-item"][data-kind="stock-out-predicted"]').count()).toBe(0);
    expect(await page.getByTestId('alerts-shown').textContent()).toBe(`${rowsBefore + 1} active alerts`);
    expect(await auditView(page, 'alerts-folded', 820)).toEqual([]);
    await page.setViewportSize({ width: 1280, height: 900 });

    await page.getByTestId('filter-kind').selectOption('stock-out-predicted');
    await expect.poll(() => page.getByTestId('alert-item').getAttribute('data-alert-id'), PATIENCE).toBe(prediction.id);
    await page.getByTestId('filter-clear').click();

    gw.built.alerts.service.resolveByKey(prediction.key, 'test', 'restocked');
    await expect.poll(() => line.getByTestId('alert-prediction').count(), PATIENCE).toBe(0);
    expect(pageErrors).toEqual([]);
  });
});
