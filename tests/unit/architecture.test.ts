/**
 * The layout rules of docs/STYLE, checked on the source: which folder may import which. Imports are read with the
 * TypeScript parser (multi-line imports, re-exports, `import()` and `import type` are told apart), never by running
 * the code.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Feature rooms: one folder per feature. Everything else under edge/ is shared plumbing that knows no feature. */
const ROOMS = [
  'access',
  'alerts',
  'audit',
  'broker',
  'campaigns',
  'cold-chain',
  'device-registry',
  'insight',
  'kpis',
  'labels',
  'opcua',
  'pki',
  'planogram',
  'price-integrity',
  'privacy',
  'relay',
  'stock',
];
const PLUMBING = ['config', 'core', 'http', 'metrics', 'storage'];
/** The entry points: files at edge/'s top level (main.ts, cli.ts) and the command line's own folder (edge/cli/). */
const TOP = '(entry)';
const ENTRY_FOLDERS = ['cli'];
/** More rooms than this known by one file means it is composing them: the composition root's job. */
const MAX_ROOMS_PER_FILE = 2;

type Import = {
  /** importing file, relative to the repository, e.g. 'edge/stock/module.ts' */
  file: string;
  specifier: string;
  /** the imported file relative to the repository ('.js' written as '.ts'), or undefined for a package */
  target: string | undefined;
  /** erased at build time: `import type`, `import { type A }` only, `export type … from` */
  typeOnly: boolean;
};

function tsFiles(dir: string, recursive: boolean): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return recursive ? tsFiles(path, true) : [];
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

function importsOf(file: string): Import[] {
  const source = ts.createSourceFile(file, readFileSync(join(ROOT, file), 'utf8'), ts.ScriptTarget.ES2022, true);
  const found: Import[] = [];
  const add = (specifier: string, typeOnly: boolean) => {
    const target = specifier.startsWith('.') ? relative(ROOT, resolve(ROOT, dirname(file), specifier)).replace(/\.js$/, '.ts') : undefined;
    found.push({ file, specifier, target, typeOnly });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements : undefined;
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly || (!clause.name && named !== undefined && named.length > 0 && named.every((e) => e.isTypeOnly)));
      add(node.moduleSpecifier.text, typeOnly);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const named = node.exportClause && ts.isNamedExports(node.exportClause) ? node.exportClause.elements : undefined;
      add(node.moduleSpecifier.text, node.isTypeOnly || (named !== undefined && named.length > 0 && named.every((e) => e.isTypeOnly)));
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      add(node.arguments[0].text, false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      add(node.argument.literal.text, true); // `typeof import('…')` in a type position
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The edge/ folder a repository path is in ('stock' for edge/stock/x.ts, TOP for edge/main.ts), else undefined. */
function edgeFolder(path: string | undefined): string | undefined {
  const parts = path?.split('/') ?? [];
  if (parts[0] !== 'edge') return undefined;
  return parts.length > 2 && !ENTRY_FOLDERS.includes(parts[1]!) ? parts[1] : TOP;
}

type FolderEdge = { from: string; to: string; evidence: string };

/** Every cycle of the folder graph, each as its edges (with the file pair that makes each edge). */
function folderCycles(edges: readonly FolderEdge[]): FolderEdge[][] {
  const out = new Map<string, FolderEdge[]>();
  for (const edge of edges) {
    const list = out.get(edge.from) ?? [];
    if (!list.some((e) => e.to === edge.to)) list.push(edge);
    out.set(edge.from, list);
  }
  const cycles: FolderEdge[][] = [];
  const seen = new Set<string>();
  const state = new Map<string, 'open' | 'done'>();
  const path: FolderEdge[] = [];
  const visit = (folder: string) => {
    state.set(folder, 'open');
    for (const edge of out.get(folder) ?? []) {
      if (state.get(edge.to) === 'open') {
        const start = path.findIndex((e) => e.from === edge.to);
        const cycle = [...path.slice(start === -1 ? path.length : start), edge];
        const key = cycle
          .map((e) => e.from)
          .sort()
          .join('>');
        if (!seen.has(key)) cycles.push(cycle);
        seen.add(key);
      } else if (state.get(edge.to) !== 'done') {
        path.push(edge);
        visit(edge.to);
        path.pop();
      }
    }
    state.set(folder, 'done');
  };
  for (const folder of out.keys()) if (!state.has(folder)) visit(folder);
  return cycles;
}

const describeCycle = (cycle: FolderEdge[]) => cycle.map((e) => `${e.from} → ${e.to} (${e.evidence})`).join(', ');

const EDGE_FILES = tsFiles('edge', true);
const SIMULATOR_FILES = tsFiles('devices', false);
const EDGE_IMPORTS = EDGE_FILES.flatMap(importsOf);
const RUNTIME_IMPORTS = EDGE_IMPORTS.filter((i) => !i.typeOnly);

/** Imports from one edge/ folder into another, with the file pair behind each. */
function folderEdges(imports: readonly Import[]): FolderEdge[] {
  return imports.flatMap((i) => {
    const from = edgeFolder(i.file);
    const to = edgeFolder(i.target);
    return from !== undefined && to !== undefined && from !== to ? [{ from, to, evidence: `${i.file} imports ${i.target}` }] : [];
  });
}

/** Imports from edge/core into any other edge/ folder, type-only ones too: core knows no feature, not even its types. */
function coreOutwardImports(imports: readonly Import[]): string[] {
  return imports
    .filter((i) => edgeFolder(i.file) === 'core' && edgeFolder(i.target) !== undefined && edgeFolder(i.target) !== 'core')
    .map((i) => `${i.file} imports ${i.target}`);
}

/** Files that know more than MAX_ROOMS_PER_FILE rooms other than their own through `imports`, with the rooms. */
function filesKnowingManyRooms(imports: readonly Import[]): string[] {
  const known = new Map<string, Set<string>>();
  for (const i of imports) {
    const room = edgeFolder(i.target);
    if (room === undefined || !ROOMS.includes(room) || room === edgeFolder(i.file)) continue;
    // the config schema composes the rooms' own config sections, as the plumbing rule allows
    if (i.file === 'edge/config/config-schema.ts' && /-config\.ts$/.test(i.target ?? '')) continue;
    known.set(i.file, (known.get(i.file) ?? new Set()).add(room));
  }
  return [...known]
    .filter(([, rooms]) => rooms.size > MAX_ROOMS_PER_FILE)
    .map(([file, rooms]) => `${file}: ${[...rooms].sort().join(', ')}`);
}

/** The files that add events to the bus's map: `declare module '<…>/core/events.js'` resolving to edge/core/events.ts. */
function eventMapAugmentations(files: readonly string[]): string[] {
  return files.filter((file) => {
    const source = ts.createSourceFile(file, readFileSync(join(ROOT, file), 'utf8'), ts.ScriptTarget.ES2022, true);
    return source.statements.some(
      (s) =>
        ts.isModuleDeclaration(s) &&
        ts.isStringLiteral(s.name) &&
        s.name.text.startsWith('.') &&
        relative(ROOT, resolve(ROOT, dirname(file), s.name.text)) === 'edge/core/events.js',
    );
  });
}

/** The files a tsconfig compiles, relative to the repository. */
function compiledBy(tsconfig: string): Set<string> {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    join(ROOT, tsconfig),
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} },
  );
  if (parsed === undefined || parsed.errors.length > 0) throw new Error(`${tsconfig} does not parse`);
  return new Set(parsed.fileNames.map((f) => relative(ROOT, f)));
}

describe('architecture', () => {
  it('the parser sees the code: edge/ imports, type-only imports, and the simulators importing edge/', () => {
    expect(EDGE_FILES).toContain('edge/main.ts');
    expect(EDGE_FILES).toContain('edge/core/event-bus.ts');
    expect(SIMULATOR_FILES.length).toBeGreaterThan(0);
    expect(RUNTIME_IMPORTS.length).toBeGreaterThan(50);
    // a room's events.ts declares its payload types with type-only imports; the bus is a runtime import
    const roomEvents = EDGE_IMPORTS.filter((i) => i.file === 'edge/device-registry/events.ts');
    expect(roomEvents.find((i) => i.target === 'edge/device-registry/messages.ts')).toMatchObject({ typeOnly: true });
    const coreEvents = EDGE_IMPORTS.filter((i) => i.file === 'edge/core/events.ts');
    expect(coreEvents.find((i) => i.target === 'edge/core/event-bus.ts')).toMatchObject({ typeOnly: false });
    // the simulators do import edge/: a check of the opposite direction is not vacuous
    expect(SIMULATOR_FILES.flatMap(importsOf).some((i) => i.target?.startsWith('edge/'))).toBe(true);
    // every edge folder is a known room or plumbing: a new folder must be classified here
    const folders = new Set(EDGE_FILES.map(edgeFolder).filter((f) => f !== TOP));
    expect([...folders].filter((f) => !ROOMS.includes(f!) && !PLUMBING.includes(f!))).toEqual([]);
  });

  it('(a) nothing in edge/ imports from devices/ (the simulators)', () => {
    const offending = EDGE_IMPORTS.filter((i) => i.target?.startsWith('devices/')).map((i) => `${i.file} imports ${i.specifier}`);
    expect(offending).toEqual([]);
  });

  it('(a) nothing in edge/ imports from tests/, bench/ or dashboards/', () => {
    const offending = EDGE_IMPORTS.filter((i) => i.target !== undefined && !i.target.startsWith('edge/')).map(
      (i) => `${i.file} imports ${i.specifier}`,
    );
    expect(offending).toEqual([]);
  });

  it('(b) the runtime imports between edge/ folders have no cycle (`import type` does not count)', () => {
    expect(folderCycles(folderEdges(RUNTIME_IMPORTS)).map(describeCycle)).toEqual([]);
  });

  it('(b) nor do the imports between edge/ folders counting type-only ones: types point the same way as code', () => {
    expect(folderCycles(folderEdges(EDGE_IMPORTS)).map(describeCycle)).toEqual([]);
  });

  it('(b) the cycle check finds a cycle when there is one', () => {
    const cycles = folderCycles([
      { from: 'stock', to: 'planogram', evidence: 'a' },
      { from: 'planogram', to: 'devices', evidence: 'b' },
      { from: 'devices', to: 'stock', evidence: 'c' },
      { from: 'alerts', to: 'http', evidence: 'd' },
    ]);
    expect(cycles.map(describeCycle)).toEqual(['stock → planogram (a), planogram → devices (b), devices → stock (c)']);
  });

  it('(c) edge/core imports no other edge folder, not even a type', () => {
    expect(coreOutwardImports(EDGE_IMPORTS)).toEqual([]);
  });

  it('(c, d) the rules see a type-only import: an event catalogue in core importing the rooms payload types fails them', () => {
    const catalogue: Import[] = ['alerts/alerts', 'stock/stock-events', 'relay/relay-status'].map((room) => ({
      file: 'edge/core/events.ts',
      specifier: `../${room}.js`,
      target: `edge/${room}.ts`,
      typeOnly: true,
    }));
    expect(coreOutwardImports(catalogue)).toEqual([
      'edge/core/events.ts imports edge/alerts/alerts.ts',
      'edge/core/events.ts imports edge/stock/stock-events.ts',
      'edge/core/events.ts imports edge/relay/relay-status.ts',
    ]);
    expect(filesKnowingManyRooms(catalogue)).toEqual(['edge/core/events.ts: alerts, relay, stock']);
    expect(filesKnowingManyRooms(catalogue.slice(0, MAX_ROOMS_PER_FILE))).toEqual([]);
  });

  it('shared plumbing (config, core, http, metrics, storage) imports no feature room, not even a type', () => {
    // one exception: the config schema is composed of the rooms' own sections (`edge/<room>/<name>-config.ts`), the
    // way main.ts composes their modules
    const roomConfigSection = (i: { file: string; target?: string }) =>
      i.file === 'edge/config/config-schema.ts' && ROOMS.includes(edgeFolder(i.target) ?? '') && /-config\.ts$/.test(i.target ?? '');
    const offending = EDGE_IMPORTS.filter(
      (i) => PLUMBING.includes(edgeFolder(i.file) ?? '') && ROOMS.includes(edgeFolder(i.target) ?? '') && !roomConfigSection(i),
    );
    expect(offending.map((i) => `${i.file} imports ${i.target}`)).toEqual([]);
  });

  it('nothing but the entry points imports the composition root or the command line (edge/main.ts, edge/cli*)', () => {
    const offending = EDGE_IMPORTS.filter((i) => edgeFolder(i.file) !== TOP && edgeFolder(i.target) === TOP);
    expect(offending.map((i) => `${i.file} imports ${i.target}`)).toEqual([]);
  });

  it(`(d) edge/main.ts is the only file that knows more than ${MAX_ROOMS_PER_FILE} rooms, counting type-only imports`, () => {
    const knowing = filesKnowingManyRooms(EDGE_IMPORTS);
    expect(knowing.some((line) => line.startsWith('edge/main.ts: '))).toBe(true);
    expect(knowing.filter((line) => !line.startsWith('edge/main.ts: '))).toEqual([]);
  });

  it("rooms add their events to the bus's map in their own events.ts, which every compilation of edge/ includes", () => {
    const augmenting = eventMapAugmentations(EDGE_FILES);
    // the five rooms that publish events today: the scan is not vacuous
    expect(augmenting).toEqual(expect.arrayContaining(['edge/alerts/events.ts', 'edge/device-registry/events.ts', 'edge/stock/events.ts']));
    expect(augmenting.filter((file) => !/^edge\/[^/]+\/events\.ts$/.test(file) || !ROOMS.includes(edgeFolder(file)!))).toEqual([]);
    // an events.ts left out of a compilation would leave its events unknown there (a publisher would not compile)
    for (const tsconfig of ['tsconfig.json', 'tsconfig.build.json']) {
      const compiled = compiledBy(tsconfig);
      expect(compiled.has('edge/core/events.ts')).toBe(true);
      expect(augmenting.filter((file) => !compiled.has(file)).map((file) => `${tsconfig} leaves out ${file}`)).toEqual([]);
    }
  });
});
