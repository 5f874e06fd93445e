/**
 * Accessibility and look of a staff page view in the browser tests: axe-core (node_modules/axe-core) run in the page
 * reports what breaks the page for people using a screen reader, a keyboard or a zoomed phone; a screenshot per view
 * and width goes to tests/browser/screenshots/ (gitignored) for a person to look at.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';

/** Phone, tablet and desktop: the widths every view is checked at. */
export const AUDIT_WIDTHS = [390, 820, 1280] as const;
export const SCREENSHOT_DIR = resolve(import.meta.dirname, '../browser/screenshots');

const AXE_SCRIPT = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
let axeSource: string | undefined;

/** One axe finding, reduced to what a failing test should print: the rule, its impact, and where. */
export type AuditViolation = { id: string; impact: string; help: string; targets: string[] };

type AxeResults = {
  violations: { id: string; impact?: string | null; help: string; nodes: { target: unknown[] }[] }[];
};

declare global {
  interface Window {
    axe?: { run(context?: unknown, options?: unknown): Promise<AxeResults> };
  }
}

/**
 * Runs axe-core over the page as it is now and returns its serious and critical violations (WCAG 2.x A and AA and
 * best practices), so a test expects `[]`. The script comes from node_modules: no network.
 */
export async function seriousViolations(page: Page): Promise<AuditViolation[]> {
  // evaluated through DevTools, which the page's Content-Security-Policy does not govern (page.addScriptTag adds an
  // inline <script>, which the policy refuses, as it should)
  axeSource ??= await readFile(AXE_SCRIPT, 'utf8');
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.evaluate(axeSource);
  const results = await page.evaluate(() =>
    window.axe!.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } }),
  );
  return results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => ({
      id: violation.id,
      impact: violation.impact ?? 'unknown',
      help: violation.help,
      targets: violation.nodes.slice(0, 5).map((node) => node.target.map(String).join(' ')),
    }));
}

/** Saves `<view>-<width>.png` (the full page) under tests/browser/screenshots/. */
export async function saveScreenshot(page: Page, view: string, width: number): Promise<string> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${view}-${width}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Sets the viewport to `width`, lets the layout settle, saves the screenshot and returns the serious violations.
 * The caller has opened the view and waited for its content.
 */
export async function auditView(page: Page, view: string, width: number, height = 900): Promise<AuditViolation[]> {
  await page.setViewportSize({ width, height });
  // one frame for the new layout before axe measures contrast and target sizes
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
  await saveScreenshot(page, view, width);
  return seriousViolations(page);
}
