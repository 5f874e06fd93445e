import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { readSecretFile } from '../core/secret-file.js';

/**
 * The store's pseudonym key: made on first start (32 random bytes, mode 600) and kept in its own file, not in the
 * database whose pseudonyms it protects — a copy of the database alone does not allow testing guessed loyalty ids.
 */
export async function loadOrCreatePseudonymKey(path: string): Promise<{ key: Buffer; created: boolean }> {
  try {
    return { key: await readSecretFile(path), created: false };
  } catch (error) {
    if ((error as { cause?: NodeJS.ErrnoException }).cause?.code !== 'ENOENT') throw error;
  }
  // a folder made for the key is private too (an existing one is left as it is)
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  // 'wx': two gateways racing on one data dir cannot both write one (the data-dir lock prevents that anyway)
  await writeFile(path, key, { mode: 0o600, flag: 'wx' });
  return { key, created: true };
}
