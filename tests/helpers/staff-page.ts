/**
 * The staff page as the tests serve it: tests/global-setup.ts builds it once per run with Vite (vite.config.ts) into
 * the run's own tree, `<builtGatewayDir>/dist/staff` — where the built gateway's edge/main.js looks for it — so runs
 * side by side never serve a page another run is rewriting in the shared dist/staff.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The built staff page (index.html, assets/) of this run (see tests/global-setup.ts). */
    staffPageDir: string;
  }
}

const ROOT = resolve(import.meta.dirname, '../..');

/** Builds the page quietly into `outDir` (Vite's JS API, the config of `npm run build:page`). */
export async function buildStaffPage(outDir: string): Promise<void> {
  const { build } = await import('vite');
  await build({ configFile: join(ROOT, 'vite.config.ts'), logLevel: 'silent', build: { outDir, emptyOutDir: true } });
}

/** This run's built page; a test that serves the page must run through vitest.config.ts, whose global setup builds it. */
export function staffPageDir(): string {
  const dir = inject('staffPageDir');
  if (!dir || !existsSync(join(dir, 'index.html'))) {
    throw new Error(`no built staff page (got ${String(dir)}): run through vitest.config.ts, whose globalSetup builds it`);
  }
  return dir;
}
