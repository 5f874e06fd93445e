/**
 * The tree tests/global-setup.ts builds for child processes: runnable ESM, cached by content so a rerun transpiles
 * only what changed, and a file with a syntax error named but never cached.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { transpileProject, type TranspileOptions } from './transpile-project.js';

const REPO = resolve(import.meta.dirname, '../..');

let dir: string;
let options: (outName: string) => TranspileOptions;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smartstore-transpile-'));
  const root = join(dir, 'root');
  await mkdir(join(root, 'src/lib'), { recursive: true });
  await symlink(join(REPO, 'node_modules'), join(root, 'node_modules'), 'dir');
  await writeFile(
    join(root, 'src/lib/price.ts'),
    `export type Cents = number;\nexport const euros = (cents: Cents): string => (cents / 100).toFixed(2);\n`,
  );
  await writeFile(
    join(root, 'src/main.ts'),
    `import { euros, type Cents } from './lib/price.js';\nconst c: Cents = 1999;\nprocess.stdout.write(euros(c));\n`,
  );
  options = (outName) => ({
    root,
    outDir: join(dir, outName),
    sourceDirs: ['src'],
    linkedDirs: ['node_modules'],
    cacheDir: join(dir, 'cache'),
  });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function build(outName: string) {
  await mkdir(join(dir, outName));
  return transpileProject(options(outName));
}

describe('transpileProject', () => {
  it('writes a tree plain node runs, with the type-only parts gone', async () => {
    const result = await build('out');
    expect(result).toMatchObject({ files: 2, transpiled: 2, problems: [] });
    const { stdout } = await promisify(execFile)(process.execPath, [join(dir, 'out/src/main.js')]);
    expect(stdout).toBe('19.99');
  });

  it('a second run transpiles only the file that changed', async () => {
    await build('first');
    expect(await build('second')).toMatchObject({ files: 2, transpiled: 0 });
    await writeFile(
      join(dir, 'root/src/lib/price.ts'),
      `export type Cents = number;\nexport const euros = (cents: Cents): string => 'EUR ' + (cents / 100).toFixed(2);\n`,
    );
    expect(await build('third')).toMatchObject({ files: 2, transpiled: 1 });
    const { stdout } = await promisify(execFile)(process.execPath, [join(dir, 'third/src/main.js')]);
    expect(stdout).toBe('EUR 19.99');
  });

  it('a file with a syntax error is written, named in problems, and not cached', async () => {
    await writeFile(join(dir, 'root/src/broken.ts'), 'export const x = (;\n');
    const first = await build('first');
    expect(first.problems.length).toBeGreaterThan(0);
    expect(first.problems[0]).toMatch(/^src\/broken\.ts: /);
    expect(await readdir(join(dir, 'first/src'))).toContain('broken.js');
    const second = await build('second');
    expect(second.transpiled).toBe(1);
    expect(second.problems).toEqual(first.problems);
  });
});
