/**
 * The staff page's firmware notice in real Chromium (Debian package, driven by playwright-core), on the Labels view: a
 * gateway behind a simulated OpenEPaperLink AP on firmware 2.55 (before 2.60, devices/oepl-ap-simulator.ts) names that
 * access point, its firmware and how many labels it carries, to a viewer, and lists its labels as failed with that
 * reason; behind a supported AP the page checks and shows nothing.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OeplApSimulator } from '../../devices/oepl-ap-simulator.js';
import { seededRandom } from '../../devices/random.js';
import type { LabelView } from '../../edge/labels/label-routes.js';
import { haveChromium, launchChromium } from '../helpers/chromium.js';
import { TEST_PLANOGRAM, eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { watchCspViolations } from './csp-violations.js';

const log = pino({ level: 'silent' });
const TAGS = 3;

/** A gateway behind one simulated OEPL AP named `apName`, with its first tag bound to shelf-a facing 1. */
type ApGateway = { gw: TestGateway; ap: OeplApSimulator };

async function gatewayWithAp(apName: string, buildVersion: string | undefined, seed: number): Promise<ApGateway> {
  const ap = new OeplApSimulator({
    tagCount: TAGS,
    logger: log,
    random: seededRandom(seed),
    checkInIntervalMs: 200,
    renderDelayMs: 20,
    sysIntervalMs: 100,
    bootDelayMs: 50,
    ...(buildVersion ? { buildVersion } : {}),
  });
  await ap.start();
  const gw = await startTestGateway({
    planogram: { ...TEST_PLANOGRAM, labels: [{ label: ap.macs[0]!, shelfId: 'shelf-a', facing: 1 }] },
    overrides: {
      labels: {
        accessPoints: [{ name: apName, url: ap.url }],
        health: { checkInIntervalMs: 1_000, missedCheckIns: 3, lowBatteryMv: 2_400, checkEveryMs: 100 },
      },
    },
  });
  return { gw, ap };
}

async function labelsOf(gw: TestGateway): Promise<LabelView[]> {
  const response = await gw.api('/api/labels');
  expect(response.status).toBe(200);
  return ((await response.json()) as { labels: LabelView[] }).labels;
}

describe.skipIf(!haveChromium)('staff page: access points with unsupported firmware', () => {
  let browser: Browser;
  const started: ApGateway[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    for (const { gw, ap } of started) {
      await gw.dispose();
      await ap.stop();
    }
  });

  async function openPage(gw: TestGateway, token: string) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const csp = watchCspViolations(page);
    await page.goto(`${gw.httpUrl}/#token=${encodeURIComponent(token)}`);
    await expect.poll(() => page.getByTestId('stream-state').textContent()).toMatch(/live/i);
    // the notice is the Labels view's (the old page showed it in its Prices panel)
    await page.getByTestId('tab-labels').click();
    return { page, pageErrors, cspViolations: () => csp.list(), close: () => context.close() };
  }

  it('a viewer sees the old access point named with its firmware and how many labels it carries', async () => {
    const setup = await gatewayWithAp('oepl-ap-1', '2.55', 5);
    started.push(setup);
    const { gw, ap } = setup;
    // every tag has checked in and carries the driver's verdict before the page asks
    await eventually(
      async () => {
        const labels = (await labelsOf(gw)).filter((label) => label.driverId === 'oepl:oepl-ap-1' && label.driverLinkDetail !== null);
        return labels.length === TAGS ? labels : undefined;
      },
      10_000,
      `the ${TAGS} labels of the old AP with their driver state`,
    );
    expect(ap.macs).toHaveLength(TAGS);

    const vera = await gw.addToken('vera', 'viewer');
    const { page, pageErrors, cspViolations, close } = await openPage(gw, vera);
    const notice = page.getByTestId('label-firmware');
    await expect.poll(() => notice.isVisible(), { timeout: 10_000 }).toBe(true);
    const items = page.getByTestId('label-firmware-item');
    expect(await items.allTextContents()).toEqual([
      `Access point oepl-ap-1: unsupported firmware 2.55 — OpenEPaperLink 2.60 or later needed (${TAGS} labels)`,
    ]);
    expect(await items.first().getAttribute('data-driver-id')).toBe('oepl:oepl-ap-1');
    expect(await notice.getAttribute('role')).toBe('status');
    expect(await page.getByRole('list', { name: /firmware too old/i }).count()).toBe(1);
    // each of its labels is listed as failed, with the access point and its firmware as the reason
    const rows = page.getByTestId('label-row');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(TAGS);
    expect(await rows.evaluateAll((items) => items.map((item) => item.getAttribute('data-problem')))).toEqual([
      'failed',
      'failed',
      'failed',
    ]);
    expect(await rows.first().getByTestId('label-reason').textContent()).toBe(
      'Access point oepl-ap-1 cannot reach it: unsupported firmware 2.55: OpenEPaperLink 2.60 or later needed',
    );
    // a shift on another tab learns of them too: the Labels tab counts the labels that need someone
    const badge = page.getByTestId('labels-attention');
    await expect.poll(() => badge.textContent(), { timeout: 10_000 }).toBe(String(TAGS));
    expect(await badge.getAttribute('aria-label')).toBe(`${TAGS} labels need attention`);
    await page.screenshot({ path: join(mkdtempSync(join(tmpdir(), 'staff-label-firmware-')), 'old-ap.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    expect(await cspViolations()).toEqual([]);
    await close();
  }, 40_000);

  it('behind a supported access point the page checks the labels and shows no notice', async () => {
    const setup = await gatewayWithAp('oepl-ap-2', undefined, 6);
    started.push(setup);
    const { gw } = setup;
    await eventually(
      async () => {
        const labels = (await labelsOf(gw)).filter((label) => label.driverId === 'oepl:oepl-ap-2' && label.lastSeenAt !== null);
        return labels.length === TAGS && labels.every((label) => label.driverLinkUp === true) ? labels : undefined;
      },
      10_000,
      `the ${TAGS} labels of the supported AP with their driver up`,
    );

    const vera = await gw.addToken('vera', 'viewer');
    const { page, pageErrors, cspViolations, close } = await openPage(gw, vera);
    const notice = page.getByTestId('label-firmware');
    // the positive signal that the page has read /api/labels: the notice records when it checked
    await expect.poll(() => notice.getAttribute('data-checked-at'), { timeout: 10_000 }).toMatch(/^\d+$/);
    expect(await notice.isVisible()).toBe(false);
    expect(await page.getByTestId('label-firmware-item').count()).toBe(0);
    expect(pageErrors).toEqual([]);
    expect(await cspViolations()).toEqual([]);
    await close();
  }, 40_000);
});
