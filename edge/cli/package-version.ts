/** The version in smartstore-edge's package.json, for `--version`: found from this file, built (dist/edge/cli/) or not. */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** At most this many folders up: edge/cli/ is two below the package root, dist/edge/cli/ three. */
const MAX_LEVELS_UP = 5;

export async function packageVersion(from: string = dirname(fileURLToPath(import.meta.url))): Promise<string> {
  let dir = from;
  for (let level = 0; level <= MAX_LEVELS_UP; level++) {
    try {
      const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'smartstore-edge' && manifest.version) return manifest.version;
    } catch {
      // no package.json here (or not ours): one folder up
    }
    dir = dirname(dir);
  }
  return 'unknown';
}
