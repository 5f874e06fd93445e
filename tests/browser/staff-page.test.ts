/**
 * The staff page (Preact, built by Vite into this run's tree) in real Chromium (Debian package, driven by
 * playwright-core) against a real gateway: an alert appears live when a facing drains over MQTT, staff acknowledge it
 * with a click, and it leaves the page on restock — all under the page's Content-Security-Policy with nothing refused;
 * a refused write runs again as the person who signs in; the page works from the keyboard; another page cannot frame it.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { haveChromium, launchChromium } from '../helpers/chromium.js';
import { watchCspViolations } from './csp-violations.js';

/** how long a poll waits for the page: a page load on a busy 2-core machine can take seconds */
const PATIENCE = { timeout: 15_000 };

// each test waits on a browser and a gateway several times: room for a loaded machine
describe.skipIf(!haveChromium)('staff page', { timeout: 60_000 }, () => {
  let gw: TestGateway;
  let browser: Browser;

  beforeAll(async () => {
    gw = await startTestGateway();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.dispose();
  });

  it('shows a live low-stock alert, acknowledges it with a click, and drops it when the facing is restocked', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const csp = watchCspViolations(page);
    const maria = await gw.addToken('maria', 'staff');
    const served = await page.goto(`${gw.httpUrl}/#token=${maria}`);
    // served under a policy that allows only the page's own files, never framed, never sniffed, no Referer
    expect(served?.headers()).toMatchObject({
      'content-security-policy': expect.stringContaining("default-src 'self'") as string,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
    expect(served?.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    await expect.poll(() => page.getByTestId('stream-state').textContent(), PATIENCE).toMatch(/live/i);
    expect(await page.getByTestId('signed-in-as').textContent()).toBe('maria (staff)');
    // the planogram's facings are on the store map before any reading
    const facingLevel = async () => {
      await page.getByTestId('tab-map').click();
      const level = await page.locator('[data-testid="facing-row"][data-shelf-id="shelf-a"][data-facing="1"]').getAttribute('data-level');
      await page.getByTestId('tab-alerts').click();
      return level;
    };
    await page.getByTestId('tab-map').click();
    await expect.poll(() => page.getByTestId('facing-row').count(), PATIENCE).toBe(3);
    await page.getByTestId('tab-alerts').click();

    const shelf = await gw.connectDevice('shelf-a', 'shelf');
    const publishUnits = (units: number) =>
      shelf.publishAsync('store/test-store/shelf/shelf-a/weight', JSON.stringify({ facing: 1, weightG: units * 1040, ts: Date.now() }), {
        qos: 1,
      });
    for (const units of [9, 6, 3, 1, 1]) await publishUnits(units);

    const item = page.getByTestId('alert-item');
    await expect.poll(() => item.count(), PATIENCE).toBe(1);
    expect(await item.getAttribute('data-state')).toBe('open');
    expect(await item.textContent()).toContain('Oat milk');
    expect(await page.getByTestId('active-count').textContent()).toContain('1');
    await expect.poll(facingLevel, PATIENCE).toBe('low');
    await page.screenshot({ path: join(mkdtempSync(join(tmpdir(), 'staff-page-')), 'alert-open.png') });

    await item.getByTestId('ack-button').click();
    await expect.poll(() => item.getAttribute('data-state'), PATIENCE).toBe('acknowledged');
    // the click went through the API with the token from the URL, and the name is the token's
    const stored = (await (await gw.api('/api/alerts')).json()) as { alerts: { state: string; acknowledgedBy: string }[] };
    expect(stored.alerts[0]).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'maria' });

    for (let i = 0; i < 3; i++) await publishUnits(10);
    await expect.poll(() => page.getByTestId('alert-item').count(), PATIENCE).toBe(0);
    await expect.poll(facingLevel, PATIENCE).toBe('ok');
    expect(pageErrors).toEqual([]);
    // everything above ran under the policy: nothing was refused
    expect(await csp.list()).toEqual([]);
    await context.close();
  });

  it('a viewer sees the alert but may not resolve it; signing in as staff on the page resolves it under the staff name', async () => {
    const kiosk = await gw.connectDevice('kiosk-9', 'kiosk');
    await kiosk.publishAsync('store/test-store/kiosk/kiosk-9/event', JSON.stringify({ type: 'assist-requested', ts: Date.now() }), {
      qos: 1,
    });
    const viewer = await gw.addToken('wall screen', 'viewer');
    const sam = await gw.addToken('sam', 'staff');
    const context = await browser.newContext();
    const page = await context.newPage();
    const csp = watchCspViolations(page);
    await page.goto(`${gw.httpUrl}/#token=${encodeURIComponent(viewer)}`);
    const item = page.locator('[data-testid="alert-item"]', { hasText: 'kiosk-9' });
    await expect.poll(() => item.count(), PATIENCE).toBe(1);
    expect(await page.getByTestId('signed-in-as').textContent()).toBe('wall screen (viewer)');
    await item.getByTestId('resolve-button').click();
    await expect.poll(() => page.getByTestId('notice').textContent(), PATIENCE).toMatch(/role viewer; this needs staff/);
    expect(await item.getAttribute('data-state')).toBe('open');
    await page.getByTestId('token-form').locator('input').fill(sam);
    await page.getByTestId('token-form').getByRole('button', { name: 'Sign in' }).click();
    // the resolve that was refused runs again under the new token
    await expect.poll(() => item.count(), PATIENCE).toBe(0);
    expect(await page.getByTestId('signed-in-as').textContent()).toBe('sam (staff)');
    const resolved = (await (await gw.api('/api/alerts?state=resolved')).json()) as { alerts: { deviceId?: string; resolvedBy: string }[] };
    expect(resolved.alerts.find((a) => a.deviceId === 'kiosk-9')).toMatchObject({ resolvedBy: 'sam' });
    expect(await csp.list()).toEqual([]);
    await context.close();
  });

  it("another page cannot frame the staff page (frame-ancestors 'none': no clickjacking)", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const csp = watchCspViolations(page);
    await page.setContent(`<iframe id="framed" src="${gw.httpUrl}/"></iframe>`);
    await expect.poll(async () => (await csp.list()).join('\n'), PATIENCE).toContain('frame-ancestors');
    // the frame holds Chromium's error page, not the staff page
    const frame = page.frames().find((f) => f !== page.mainFrame());
    expect(
      await frame
        ?.locator('[data-testid="token-form"]')
        .count()
        .catch(() => 0),
    ).toBe(0);
    await context.close();
  });

  it('works from the keyboard: an alert resolved by Enter leaves focus on the next one; tabs open by Enter; sign out', async () => {
    for (const kioskId of ['kiosk-11', 'kiosk-12']) {
      const kiosk = await gw.connectDevice(kioskId, 'kiosk');
      await kiosk.publishAsync(`store/test-store/kiosk/${kioskId}/event`, JSON.stringify({ type: 'assist-requested', ts: Date.now() }), {
        qos: 1,
      });
    }
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${gw.httpUrl}/#token=${await gw.addToken('ines', 'staff')}`);
    const first = page.locator('[data-testid="alert-item"]', { hasText: 'kiosk-11' });
    const second = page.locator('[data-testid="alert-item"]', { hasText: 'kiosk-12' });
    await expect.poll(async () => (await first.count()) + (await second.count()), PATIENCE).toBe(2);

    await first.getByTestId('resolve-button').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => first.count(), PATIENCE).toBe(0);
    // the keyboard user is still in the list, on the alert now in that place, not back at the page's start
    await expect
      .poll(
        () => page.evaluate(() => document.activeElement?.closest('[data-testid="alert-item"]')?.textContent ?? 'outside the list'),
        PATIENCE,
      )
      .not.toBe('outside the list');

    await page.getByTestId('tab-map').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => new URL(page.url()).hash, PATIENCE).toBe('#/map');
    // the address changes first, the tab bar at the next render
    await expect.poll(() => page.getByTestId('tab-map').getAttribute('aria-current'), PATIENCE).toBe('page');
    expect(await page.getByTestId('tab-alerts').getAttribute('aria-current')).toBeNull();

    await expect.poll(() => page.getByTestId('facing-row').count(), PATIENCE).toBe(3);
    await page.getByTestId('sign-out').click();
    await expect.poll(() => page.getByTestId('token-form').isVisible(), PATIENCE).toBe(true);
    expect(await page.getByTestId('signed-in-as').textContent()).toBe('not signed in');
    // nothing of the store stays on the page once signed out
    expect(await page.getByTestId('facing-row').count()).toBe(0);
    await context.close();
  });

  it('a wrong token shows the sign-in form and no store data', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const csp = watchCspViolations(page);
    await page.goto(`${gw.httpUrl}/#token=wrong-token-wrong-token`);
    await expect.poll(() => page.getByTestId('token-form').isVisible(), PATIENCE).toBe(true);
    expect(await page.getByTestId('notice').textContent()).toMatch(/unknown or revoked token/);
    expect(await page.getByTestId('signed-in-as').textContent()).toBe('not signed in');
    expect(await page.getByTestId('alert-item').count()).toBe(0);
    await page.getByTestId('tab-map').click();
    // the address changes first, the tab bar at the next render
    await expect.poll(() => page.getByTestId('tab-map').getAttribute('aria-current'), PATIENCE).toBe('page');
    expect(await page.getByTestId('facing-row').count()).toBe(0);
    expect(await csp.list()).toEqual([]);
    await context.close();
  });
});
