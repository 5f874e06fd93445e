/** What the staff page's Content-Security-Policy refused, as Chromium reports it: a page that works under it has none. */
import type { Page } from 'playwright-core';

declare global {
  interface Window {
    cspViolations?: string[];
  }
}

/**
 * Records every CSP violation of `page` (call before `goto`): the `securitypolicyviolation` events the page sees, and
 * Chromium's console lines for what it refused (a favicon or a frame ancestor raises no event in the page).
 */
export function watchCspViolations(page: Page): { list(): Promise<string[]> } {
  const console: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) console.push(message.text());
  });
  // an init script runs before the page's own, and DevTools' scripts are not subject to the page's CSP
  void page.addInitScript(() => {
    window.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (event) => {
      window.cspViolations?.push(`${event.violatedDirective}: ${event.blockedURI}`);
    });
  });
  return {
    async list() {
      const events = await page.evaluate(() => window.cspViolations ?? []).catch(() => [] as string[]);
      return [...events, ...console];
    },
  };
}
