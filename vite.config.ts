// Vite builds the staff page (dashboards/staff, TypeScript + Preact) to dist/staff/, which the gateway serves at /.
// `npm run build` runs it after tsc; vitest's global setup (tests/global-setup.ts) builds it into each run's own tree.
// The page imports domain rules from edge/ (e.g. edge/alerts/alerts.ts), so those modules stay free of node: imports.
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

export const STAFF_PAGE_ROOT = resolve(import.meta.dirname, 'dashboards/staff');

export default defineConfig({
  root: STAFF_PAGE_ROOT,
  // relative asset URLs: the page works wherever it is served from (a reverse proxy may put it under a path)
  base: './',
  // favicon.svg and other files served as they are
  publicDir: resolve(STAFF_PAGE_ROOT, 'public'),
  // Preact's JSX runtime, no preset needed: oxc compiles the JSX to `preact/jsx-runtime` calls
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  // the page is served as files by the gateway; no dev server config beyond the API proxy for `npx vite`
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
  build: {
    outDir: resolve(import.meta.dirname, 'dist/staff'),
    emptyOutDir: true,
    // evergreen browsers of the store's tablets and phones
    target: 'es2022',
    // every script in its own file: the gateway's Content-Security-Policy (default-src 'self') refuses inline ones
    assetsInlineLimit: 0,
    sourcemap: true,
    reportCompressedSize: false,
  },
});
