/**
 * The closing line of tests/plain-summary-reporter.ts, read off a real vitest run (a child process on fixture files in
 * a temp dir): a file that throws at import, a failing beforeAll and afterAll, and an unhandled rejection each count
 * as failed, so the line never says "0 failed" while vitest exits non-zero.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const VITEST = join(ROOT, 'node_modules/vitest/vitest.mjs');
const REPORTER = join(ROOT, 'tests/plain-summary-reporter.ts');

/** Fixture files use vitest's globals, so the temp dir needs no node_modules of its own. */
const BROKEN_RUN: Record<string, string> = {
  'import-throws.fixture.ts': `throw new Error('this module throws at import');\n`,
  'before-all.fixture.ts': `
describe('a suite whose beforeAll fails', () => {
  beforeAll(() => { throw new Error('beforeAll failed'); });
  it('is skipped 1', () => {});
  it('is skipped 2', () => {});
});
it('passes outside that suite', () => {});
`,
  'after-all.fixture.ts': `
afterAll(() => { throw new Error('afterAll failed'); });
it('passes before a failing afterAll', () => {});
`,
  'unhandled.fixture.ts': `
it('leaves an unhandled rejection behind', async () => {
  void Promise.reject(new Error('nobody handles this'));
  await new Promise((resolve) => setTimeout(resolve, 50));
});
`,
  'plain.fixture.ts': `
it('passes', () => {});
it('fails', () => { throw new Error('fails'); });
it.skip('is skipped', () => {});
`,
};

const GREEN_RUN: Record<string, string> = {
  'green.fixture.ts': `it('passes 1', () => {});\nit('passes 2', () => {});\nit.skip('is skipped', () => {});\n`,
};

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smartstore-reporter-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs vitest on `files` with only the plain reporter; returns its exit code and the last line it printed. */
async function runVitest(name: string, files: Record<string, string>): Promise<{ code: number; lastLine: string; output: string }> {
  const root = join(dir, name);
  await mkdir(root);
  for (const [file, text] of Object.entries(files)) await writeFile(join(root, file), text);
  const config = { test: { globals: true, include: ['*.fixture.ts'], pool: 'forks', maxWorkers: 1, reporters: [REPORTER] } };
  await writeFile(join(root, 'vitest.config.mjs'), `export default ${JSON.stringify(config)};\n`);
  // the outer run's VITEST_* variables would make the inner vitest think it is a worker of ours
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('VITEST')) env[key] = value;
  return new Promise((done) => {
    execFile(
      process.execPath,
      [VITEST, 'run', '--root', root, '--config', join(root, 'vitest.config.mjs')],
      { cwd: root, env, timeout: 25_000 },
      (error, stdout, stderr) => {
        const lines = stdout.trim().split('\n');
        done({
          code: typeof error?.code === 'number' ? error.code : error ? -1 : 0,
          lastLine: lines.at(-1) ?? '',
          output: `${stdout}\n${stderr}`,
        });
      },
    );
  });
}

describe('the plain closing line', () => {
  it('counts a file that fails to load, failed hooks and unhandled errors as failed; a green run says 0 failed', async () => {
    const [broken, green] = await Promise.all([runVitest('broken', BROKEN_RUN), runVitest('green', GREEN_RUN)]);
    // passed: 4 tests; failed: 1 test, the import, the beforeAll suite, the afterAll module, the rejection; skipped: 2 + 1
    expect(broken.lastLine, broken.output).toBe('4 passed, 5 failed, 3 skipped');
    expect(broken.code).toBe(1);
    expect(green.lastLine, green.output).toBe('2 passed, 0 failed, 1 skipped');
    expect(green.code).toBe(0);
  }, 30_000);
});
