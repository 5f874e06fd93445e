/**
 * Vitest global setup: builds the runnable gateway once per run, for every test that starts it as a child process
 * (hostile-config, the kill tests), and the staff page (Vite) that the tests' gateways serve. It replaces per-file
 * build hooks, which each paid for a build under a 60 s hook limit and timed out on a busy 2-core machine. Global setup
 * has no hook timeout, and transpiling takes seconds (well under one when the cache already holds every file, the
 * common case); the page builds in about one.
 * The tree lives in a fresh temp dir (never the shared dist/), so runs side by side do not overwrite each other.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildStaffPage } from './helpers/staff-page.js';
import { transpileProject } from './helpers/transpile-project.js';

const ROOT = resolve(import.meta.dirname, '..');

async function build(outDir: string): Promise<void> {
  const result = await transpileProject({
    root: ROOT,
    outDir,
    sourceDirs: ['edge', 'devices'],
    linkedDirs: ['node_modules', 'config', 'dashboards'],
    cacheDir: join(ROOT, 'node_modules/.cache/smartstore-transpile'),
  });
  // a file someone is half-way through editing: say which, and let only the tests that import it fail
  for (const problem of result.problems) process.stderr.write(`global setup: transpile problem in ${problem}\n`);
  // the staff page where the built gateway's edge/main.js looks for it (<outDir>/dist/staff); in-process gateways
  // (test-gateway.ts) are given the same folder
  try {
    await buildStaffPage(join(outDir, 'dist/staff'));
  } catch (error) {
    // a page someone is half-way through editing: only the tests that open the page fail (staffPageDir says why)
    process.stderr.write(`global setup: the staff page did not build: ${error instanceof Error ? error.message : String(error)}\n`);
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // the name must not contain '/dist/': edge/main.ts and load-config.ts tell the build layout from the sources by it
  const outDir = await mkdtemp(join(tmpdir(), 'smartstore-built-'));
  await build(outDir);
  // the key and its type are declared in tests/helpers/built-gateway.ts, where the tests read it
  project.provide('builtGatewayDir', outDir);
  project.provide('staffPageDir', join(outDir, 'dist/staff'));
  // watch mode: edited sources must reach the child processes of the next rerun
  project.onTestsRerun(async () => {
    await rm(outDir, { recursive: true, force: true });
    await mkdir(outDir);
    await build(outDir);
  });
  return async () => {
    await rm(outDir, { recursive: true, force: true });
  };
}
