/**
 * Where the store CA lives: `<dataDir>/pki/ca.crt` (give it to devices and clients to trust) and `ca.key` (mode 600,
 * never leaves the gateway machine; back it up with the data dir).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readSecretFile } from '../core/secret-file.js';
import type { PemPair } from './certificate-authority.js';

export const caFiles = (dataDir: string) => ({
  dir: join(dataDir, 'pki'),
  cert: join(dataDir, 'pki', 'ca.crt'),
  key: join(dataDir, 'pki', 'ca.key'),
});

export class NoCertificateAuthorityError extends Error {
  constructor(readonly dir: string) {
    super(`no store CA in ${dir}: create it with \`smartstore-edge ca init\``);
    this.name = 'NoCertificateAuthorityError';
  }
}

export async function saveCertificateAuthority(dataDir: string, ca: PemPair): Promise<void> {
  const files = caFiles(dataDir);
  await mkdir(files.dir, { recursive: true, mode: 0o700 });
  // 'wx': an existing CA is never overwritten (every certificate it issued would stop working)
  await writeFile(files.key, ca.keyPem, { mode: 0o600, flag: 'wx' });
  await writeFile(files.cert, ca.certPem, { mode: 0o644, flag: 'wx' });
}

export async function loadCertificateAuthority(dataDir: string): Promise<PemPair> {
  const files = caFiles(dataDir);
  try {
    return { certPem: await readFile(files.cert, 'utf8'), keyPem: (await readSecretFile(files.key)).toString('utf8') };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as { cause?: NodeJS.ErrnoException }).cause?.code === 'ENOENT')
      throw new NoCertificateAuthorityError(files.dir);
    throw error;
  }
}
