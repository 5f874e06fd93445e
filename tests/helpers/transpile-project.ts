/**
 * Turns the project's TypeScript sources into a runnable ESM tree for tests that start the gateway (or parts of it) as
 * a child process. Each file is transpiled on its own (ts.transpileModule: no type check, no program): about two
 * seconds for edge/ and devices/, against ten or more for `tsc -p tsconfig.build.json` on a loaded 2-core machine.
 * Type checking is `npm test`'s first step (`tsc --noEmit -p .`), so the suite does not pay for it twice.
 */
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';

export type TranspileOptions = {
  /** The repository root (holds edge/, devices/, node_modules/ …). */
  root: string;
  /** An empty directory that receives the tree; the caller owns it and removes it. */
  outDir: string;
  /** Source directories under root, transpiled file by file (`edge/x.ts` → `<outDir>/edge/x.js`). */
  sourceDirs: readonly string[];
  /** Directories under root that the running code reads as they are (node_modules, config …), linked, not copied. */
  linkedDirs: readonly string[];
};

export type TranspileResult = { files: number; ms: number; problems: string[] };

const COMPILER_OPTIONS: ts.CompilerOptions = { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 };

async function tsFilesUnder(root: string, dir: string): Promise<string[]> {
  const entries = await readdir(join(root, dir), { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => relative(root, join(e.parentPath, e.name)));
}

/**
 * Writes the tree: transpiled sources, `package.json` saying ESM, links to the shared directories. A file with a
 * syntax error is still written (it fails where it is imported, as it would in the build) and named in `problems`, so
 * one broken file does not stop every test of the run.
 */
export async function transpileProject(options: TranspileOptions): Promise<TranspileResult> {
  const started = performance.now();
  const problems: string[] = [];
  let files = 0;
  for (const dir of options.sourceDirs) {
    for (const file of await tsFilesUnder(options.root, dir)) {
      const out = ts.transpileModule(await readFile(join(options.root, file), 'utf8'), { compilerOptions: COMPILER_OPTIONS, fileName: file, reportDiagnostics: true });
      for (const d of out.diagnostics ?? []) problems.push(`${file}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
      const target = join(options.outDir, file.replace(/\.ts$/, '.js'));
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, out.outputText);
      files++;
    }
  }
  await writeFile(join(options.outDir, 'package.json'), JSON.stringify({ type: 'module' }));
  for (const shared of options.linkedDirs) await symlink(join(options.root, shared), join(options.outDir, shared), 'dir');
  return { files, ms: Math.round(performance.now() - started), problems };
}
