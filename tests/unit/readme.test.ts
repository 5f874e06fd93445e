/**
 * README and docs/architecture.md stay current (issue 23): the start and stop order the README shows is the one the
 * module graph derives (printed by `check-config --modules`), and their folder lists name every top-level folder and
 * every folder of edge/. A new room or a changed need fails here with what to write where.
 */
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EXIT, type CliIo } from '../../edge/cli/io.js';
import { runCli } from '../../edge/cli/program.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Folders that are not the project's: installed, built or hidden tooling. */
const NOT_LISTED = new Set(['node_modules', 'dist']);

const readme = () => readFile(`${ROOT}README.md`, 'utf8');

/** The first fenced block after a heading line (`## Layout`). */
function blockAfter(text: string, heading: string): string {
  const start = text.indexOf(`\n${heading}\n`);
  if (start === -1) throw new Error(`no "${heading}" heading`);
  const open = text.indexOf('\n```', start);
  const bodyStart = text.indexOf('\n', open + 1) + 1;
  const close = text.indexOf('\n```', bodyStart);
  return text.slice(bodyStart, close + 1);
}

async function folders(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.') && !NOT_LISTED.has(entry.name))
    .map((entry) => entry.name)
    .sort();
}

const names = (text: string, name: string) => new RegExp(`(?<![\\w/-])${name.replace(/[.-]/g, '\\$&')}/`).test(text);

describe('README and docs are current', () => {
  it("the README's start and stop order is what `check-config --modules` prints from the module graph", async () => {
    let stdout = '';
    const io: CliIo = {
      env: {},
      cwd: ROOT,
      stdout: { write: (text: string) => ((stdout += text), true) },
      stderr: { write: () => true },
      onSignal: () => () => undefined,
    };
    expect(await runCli(['check-config', 'config/example.yaml', '--modules'], io)).toBe(EXIT.ok);
    expect(stdout).toMatch(/^start order \(stop: the reverse\):\n {1}1\. storage\n/);
    expect(stdout.trimEnd().split('\n').at(-1)).toMatch(/\. http$/);
    expect(blockAfter(await readme(), '### Start and stop order'), 'README: paste what check-config --modules prints').toBe(stdout);
  });

  it("the README's layout names every top-level folder (at the start of a line) and every folder of edge/", async () => {
    const layout = blockAfter(await readme(), '## Layout');
    const topLevel = await folders(ROOT);
    expect(topLevel).toContain('edge');
    expect(
      topLevel.filter((name) => !new RegExp(`^${name}/`, 'm').test(layout)),
      'top-level folders the README layout does not list',
    ).toEqual([]);
    const rooms = await folders(`${ROOT}edge`);
    expect(rooms.length).toBeGreaterThan(15);
    expect(
      rooms.filter((room) => !names(layout, room)),
      'edge/ folders the README layout does not name',
    ).toEqual([]);
  });

  it('docs/architecture.md names every folder of edge/ as edge/<folder>/', async () => {
    const architecture = await readFile(`${ROOT}docs/architecture.md`, 'utf8');
    const rooms = await folders(`${ROOT}edge`);
    expect(
      rooms.filter((room) => !architecture.includes(`edge/${room}/`)),
      'edge/ folders docs/architecture.md does not name',
    ).toEqual([]);
  });
});
