/**
 * The staff page's Devices view in real Chromium against a real gateway: devices by kind, the disconnected first,
 * connected as the live stream says (a device that drops off turns disconnected without a reload); a label's battery;
 * an admin disables a shelf after confirming — the page shows it disabled and the shelf's next CONNECT is refused (not
 * authorized) — and gives a label a new secret, shown once, with which it connects; a viewer gets no buttons; no
 * serious axe violation at phone, tablet and desktop width.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveChromium, launchChromium } from '../helpers/chromium.js';
import { AUDIT_WIDTHS, auditView } from '../helpers/page-audit.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { watchCspViolations } from './csp-violations.js';

/** MQTT 3.1.1 CONNACK: the broker's answer to a disabled device */
const NOT_AUTHORIZED = 5;

describe.skipIf(!haveChromium)('staff page: devices', () => {
  let gw: TestGateway;
  let browser: Browser;
  const clients = new Set<MqttClient>();
  const secrets = new Map<string, string>();

  function connect(id: string, secret: string): Promise<{ ok: true; client: MqttClient } | { ok: false; code: number | undefined }> {
    return new Promise((resolve) => {
      const client = mqtt.connect(gw.mqttUrl, { clientId: id, username: id, password: secret, reconnectPeriod: 0, connectTimeout: 5_000 });
      clients.add(client);
      client.once('connect', () => resolve({ ok: true, client }));
      client.once('error', (error) => {
        client.end(true);
        resolve({ ok: false, code: (error as { code?: number }).code });
      });
    });
  }
  async function connected(id: string): Promise<MqttClient> {
    const result = await connect(id, secrets.get(id)!);
    if (!result.ok) throw new Error(`${id} could not connect (CONNACK ${result.code})`);
    return result.client;
  }

  beforeAll(async () => {
    gw = await startTestGateway();
    for (const [id, kind] of [
      ['shelf-a', 'shelf'],
      ['shelf-b', 'shelf'],
      ['kiosk-1', 'kiosk'],
      ['esl-01', 'esl'],
    ] as const) {
      secrets.set(id, await gw.built.devices.registry.provision(id, kind));
    }
    await connected('shelf-a');
    await connected('shelf-b');
    const esl = await connected('esl-01');
    await esl.publishAsync(
      'store/test-store/esl/esl-01/status',
      JSON.stringify({ batteryMv: 2_870, displayedPriceCents: 149, ts: Date.now() }),
      {
        qos: 1,
      },
    );
    browser = await launchChromium();
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
    await Promise.all([...clients].map((client) => client.endAsync(true).catch(() => undefined)));
    await gw?.dispose();
  });

  async function openDevices(token: string) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const csp = watchCspViolations(page);
    await page.goto(`${gw.httpUrl}/#token=${encodeURIComponent(token)}`);
    await expect.poll(() => page.getByTestId('stream-state').textContent()).toMatch(/live/i);
    await page.getByTestId('tab-devices').click();
    await expect.poll(() => page.getByTestId('device-row').count(), { timeout: 10_000 }).toBe(4);
    return { page, pageErrors, cspViolations: () => csp.list(), close: () => context.close() };
  }

  const statuses = (page: Page) =>
    page
      .getByTestId('device-row')
      .evaluateAll((rows) => rows.map((row) => `${row.getAttribute('data-device-id')}:${row.getAttribute('data-status')}`));
  const row = (page: Page, id: string) => page.locator(`[data-testid="device-row"][data-device-id="${id}"]`);

  it('shows devices by kind, the disconnected first, connected live, a label battery; a viewer gets no buttons', async () => {
    const viewer = await gw.addToken('vera', 'viewer');
    const { page, pageErrors, cspViolations, close } = await openDevices(viewer);
    expect(await page.getByTestId('devices-group').evaluateAll((groups) => groups.map((group) => group.getAttribute('data-kind')))).toEqual(
      ['shelf', 'esl', 'kiosk'],
    );
    expect(await statuses(page)).toEqual(['shelf-a:connected', 'shelf-b:connected', 'esl-01:connected', 'kiosk-1:disconnected']);
    expect(await row(page, 'esl-01').textContent()).toContain('Battery 2.87 V');
    expect(await page.getByTestId('device-disable').count()).toBe(0);
    expect(await page.getByTestId('device-rotate-secret').count()).toBe(0);

    for (const width of AUDIT_WIDTHS) expect(await auditView(page, 'devices', width)).toEqual([]);

    // shelf-b drops off: the stream says so and it moves to the top of its kind, disconnected
    const shelfB = [...clients].find((client) => client.options.clientId === 'shelf-b')!;
    await shelfB.endAsync(true);
    await expect
      .poll(() => statuses(page), { timeout: 10_000 })
      .toEqual(['shelf-b:disconnected', 'shelf-a:connected', 'esl-01:connected', 'kiosk-1:disconnected']);
    expect(pageErrors).toEqual([]);
    expect(await cspViolations()).toEqual([]);
    await close();
  }, 60_000);

  it('an admin disables a shelf (confirmed): shown disabled, its next CONNECT refused; a new secret is shown once and works', async () => {
    const admin = await gw.addToken('ian', 'admin');
    const { page, pageErrors, close } = await openDevices(admin);
    const shelfA = row(page, 'shelf-a');
    await shelfA.getByTestId('device-disable').click();
    expect(await shelfA.textContent()).toContain('Disable shelf-a? Its connection closes now');
    await shelfA.getByTestId('device-disable-confirm').click();
    await expect.poll(() => shelfA.getAttribute('data-status')).toBe('disabled');
    expect(await shelfA.getByTestId('device-enable').isVisible()).toBe(true);
    expect(await connect('shelf-a', secrets.get('shelf-a')!)).toEqual({ ok: false, code: NOT_AUTHORIZED });

    const kiosk = row(page, 'kiosk-1');
    await kiosk.getByTestId('device-rotate-secret').click();
    await kiosk.getByTestId('device-rotate-secret-confirm').click();
    const secretBox = kiosk.getByTestId('device-secret-value');
    await expect.poll(() => secretBox.inputValue()).not.toBe('');
    const secret = await secretBox.inputValue();
    expect(await kiosk.getByTestId('device-secret').textContent()).toMatch(/shown only now/);
    expect(await auditView(page, 'devices-secret', 390)).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await kiosk.getByTestId('device-secret-copy').click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    // the old secret is refused, the new one lets the kiosk in
    expect((await connect('kiosk-1', secrets.get('kiosk-1')!)).ok).toBe(false);
    secrets.set('kiosk-1', secret);
    await connected('kiosk-1');
    await expect.poll(() => kiosk.getAttribute('data-status'), { timeout: 10_000 }).toBe('connected');
    expect(pageErrors).toEqual([]);
    await close();
  }, 60_000);
});
