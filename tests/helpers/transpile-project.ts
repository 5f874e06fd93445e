/**
 * Turns the project's TypeScript sources into a runnable ESM tree for tests that start the gateway (or parts of it) as
 * a child process. Each file is transpiled on its own (ts.transpileModule: no type check, no program): about two
 * seconds of CPU for edge/ and devices/, against ten or more for `tsc -p tsconfig.build.json`. Type checking is
 * `npm test`'s first step (`tsc --noEmit -p .`), so the suite does not pay for it twice. Outputs are cached by content
 * hash, so a run after a small edit transpiles only the edited files (and does not even load TypeScript when none).
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type ts from 'typescript';

export type TranspileOptions = {
  /** The repository root (holds edge/, devices/, node_modules/ …). */
  root: string;
  /** An empty directory that receives the tree; the caller owns it and removes it. */
  outDir: string;
  /** Source directories under root, transpiled file by file (`edge/x.ts` → `<outDir>/edge/x.js`). */
  sourceDirs: readonly string[];
  /** Directories under root that the running code reads as they are (node_modules, config …), linked, not copied. */
  linkedDirs: readonly string[];
  /** Where transpiled files are kept between runs, by content hash; none: transpile everything. */
  cacheDir?: string;
};

export type TranspileResult = { files: number; transpiled: number; ms: number; problems: string[] };

/** Bound of the cache: past this many files, the ones this run did not use go (several trees' worth of edits). */
export const MAX_CACHED_FILES = 2_000;

async function tsFilesUnder(root: string, dir: string): Promise<string[]> {
  const entries = await readdir(join(root, dir), { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => relative(root, join(e.parentPath, e.name)));
}

type Transpiler = { version: string; transpile(source: string, file: string): { text: string; problems: string[] } };

async function loadTranspiler(): Promise<Transpiler> {
  const { default: typescript } = (await import('typescript')) as { default: typeof ts };
  const compilerOptions: ts.CompilerOptions = { module: typescript.ModuleKind.ESNext, target: typescript.ScriptTarget.ES2022 };
  return {
    version: typescript.version,
    transpile(source, file) {
      const out = typescript.transpileModule(source, { compilerOptions, fileName: file, reportDiagnostics: true });
      const problems = (out.diagnostics ?? []).map((d) => `${file}: ${typescript.flattenDiagnosticMessageText(d.messageText, ' ')}`);
      return { text: out.outputText, problems };
    },
  };
}

/** Removes the cache files this run did not use once the cache holds more than MAX_CACHED_FILES. */
async function pruneCache(cacheDir: string, used: ReadonlySet<string>): Promise<void> {
  const names = await readdir(cacheDir);
  if (names.length <= MAX_CACHED_FILES) return;
  // a concurrent run may lose an entry it is about to read: it then transpiles that file again, nothing worse
  await Promise.all(names.filter((name) => !used.has(name)).map((name) => rm(join(cacheDir, name), { force: true })));
}

/**
 * Writes the tree: transpiled sources, `package.json` saying ESM, links to the shared directories. A file with a
 * syntax error is still written (it fails where it is imported, as it would in the build) and named in `problems`, so
 * one broken file does not stop every test of the run; it is never cached.
 */
export async function transpileProject(options: TranspileOptions): Promise<TranspileResult> {
  const started = performance.now();
  const problems: string[] = [];
  // the key covers the compiler: a TypeScript upgrade must not serve the old compiler's output
  const tsVersion = (JSON.parse(await readFile(join(options.root, 'node_modules/typescript/package.json'), 'utf8')) as { version: string })
    .version;
  let transpiler: Transpiler | undefined;
  const used = new Set<string>();
  let files = 0;
  let transpiled = 0;
  if (options.cacheDir) await mkdir(options.cacheDir, { recursive: true });
  for (const dir of options.sourceDirs) {
    for (const file of await tsFilesUnder(options.root, dir)) {
      const source = await readFile(join(options.root, file), 'utf8');
      const cacheName = `${createHash('sha256').update(`${tsVersion}\0esnext-es2022\0${source}`).digest('hex')}.js`;
      const cached = options.cacheDir ? join(options.cacheDir, cacheName) : undefined;
      let text = cached ? await readFile(cached, 'utf8').catch(() => undefined) : undefined;
      if (text === undefined) {
        transpiler ??= await loadTranspiler();
        const out = transpiler.transpile(source, file);
        text = out.text;
        problems.push(...out.problems);
        transpiled++;
        if (cached && out.problems.length === 0) {
          // written whole, then renamed: a concurrent run never reads half a file
          const partial = `${cached}.${process.pid}.tmp`;
          await writeFile(partial, text);
          await rename(partial, cached);
        }
      }
      used.add(cacheName);
      const target = join(options.outDir, file.replace(/\.ts$/, '.js'));
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, text);
      files++;
    }
  }
  if (options.cacheDir) await pruneCache(options.cacheDir, used);
  await writeFile(join(options.outDir, 'package.json'), JSON.stringify({ type: 'module' }));
  for (const shared of options.linkedDirs) await symlink(join(options.root, shared), join(options.outDir, shared), 'dir');
  return { files, transpiled, ms: Math.round(performance.now() - started), problems };
}
