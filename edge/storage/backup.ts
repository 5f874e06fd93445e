/**
 * Backups of a store, as a folder anyone can look into: `manifest.json` lists every file with its size, mode and
 * SHA-256, and where it goes back to; the files sit beside it under `data/` (and `pseudonym.key` when the key lives
 * outside the data dir). Databases are copied with SQLite's online backup API on a connection of its own: one read
 * transaction, so the copy is consistent even while the gateway writes (WAL lets it go on meanwhile). The manifest is
 * written last: a folder without one is an interrupted backup, and restore refuses it.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, open, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import sqlite3 from 'sqlite3';

export const BACKUP_FORMAT = 'smartstore-edge-backup/1';
export const MANIFEST_FILE = 'manifest.json';

/** Where a file of the backup goes back to: a path inside the data dir, or the configured pseudonym key file. */
export type BackupTarget = { dataDir: string } | { pseudonymKey: true };

export type BackupEntry = { file: string; target: BackupTarget; kind: 'database' | 'file'; bytes: number; mode: number; sha256: string };

export type BackupManifest = { format: string; createdAt: string; storeId: string; storeUuid: string | null; entries: BackupEntry[] };

export class BackupError extends Error {
  constructor(
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BackupError';
  }
}

type Backup = {
  step(pages: number, callback: (error: Error | null) => void): void;
  finish(callback: (error?: Error | null) => void): void;
  completed: boolean;
  failed: boolean;
};

const BACKUP_ATTEMPTS = 20;

/** Copies one SQLite database with the online backup API into `target` (created 0600), consistent while others write. */
export async function backupDatabase(source: string, target: string): Promise<void> {
  await writeFile(target, '', { mode: 0o600, flag: 'wx' });
  const db = await new Promise<sqlite3.Database>((resolve, reject) => {
    const handle = new sqlite3.Database(source, sqlite3.OPEN_READWRITE, (error) => (error ? reject(error) : resolve(handle)));
  });
  try {
    await new Promise<void>((resolve, reject) => db.exec('PRAGMA busy_timeout = 5000', (error) => (error ? reject(error) : resolve())));
    // node-sqlite3 has Database#backup, its typings do not
    const withBackup = db as unknown as { backup(file: string, callback: (error: Error | null) => void): Backup };
    const backup = await new Promise<Backup>((resolve, reject) => {
      const started = withBackup.backup(target, (error) => (error ? reject(error) : resolve(started)));
    });
    try {
      // -1: every page in one step, inside one read transaction (a step that met a busy lock is retried)
      for (let attempt = 0; !backup.completed; attempt++) {
        if (attempt >= BACKUP_ATTEMPTS) throw new BackupError(source, `could not copy ${source}: the database stayed locked`);
        await new Promise<void>((resolve, reject) => backup.step(-1, (error) => (error ? reject(error) : resolve())));
        if (backup.failed) throw new BackupError(source, `copying ${source} failed`);
        if (!backup.completed) await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await new Promise<void>((resolve) => backup.finish(() => resolve()));
    }
  } finally {
    await new Promise<void>((resolve) => db.close(() => resolve()));
  }
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Whether a file starts with SQLite's header (the data dir's databases are found by content, not by a list). */
export async function isSqliteFile(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const header = Buffer.alloc(16);
    const { bytesRead } = await handle.read(header, 0, 16, 0);
    return bytesRead === 16 && header.toString('latin1') === 'SQLite format 3\0';
  } finally {
    await handle.close();
  }
}

/** Every regular file under `dir`, as paths relative to it (bounded by what a data dir's key folders hold). */
export async function filesUnder(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}

export function targetPath(target: BackupTarget, dataDir: string, pseudonymKeyFile: string): string {
  return 'pseudonymKey' in target ? pseudonymKeyFile : join(dataDir, ...target.dataDir.split('/'));
}

export async function readManifest(backupDir: string): Promise<BackupManifest> {
  const file = join(backupDir, MANIFEST_FILE);
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(await readFile(file, 'utf8')) as BackupManifest;
  } catch (error) {
    const why = `no readable ${MANIFEST_FILE}: ${(error as Error).message}`;
    throw new BackupError(file, `${backupDir} is not a complete backup (${why})`, { cause: error });
  }
  if (manifest.format !== BACKUP_FORMAT || !Array.isArray(manifest.entries)) {
    const format = String(manifest.format);
    throw new BackupError(file, `${file} is not a backup this gateway reads (format ${format}, expected ${BACKUP_FORMAT})`);
  }
  for (const entry of manifest.entries) {
    // a manifest names files inside the backup and the data dir only
    const paths = [entry.file, ...('dataDir' in entry.target ? [entry.target.dataDir] : [])];
    if (paths.some((path) => typeof path !== 'string' || path.startsWith('/') || path.split(/[\\/]/).includes('..'))) {
      throw new BackupError(file, `${file} names a path outside the backup or the data dir: ${JSON.stringify(entry)}`);
    }
  }
  return manifest;
}

/** Every file present with the size and SHA-256 the manifest says; the problems, one a line, if not. */
export async function verifyBackup(backupDir: string, manifest: BackupManifest): Promise<string[]> {
  const problems: string[] = [];
  for (const entry of manifest.entries) {
    const file = join(backupDir, entry.file);
    const found = await stat(file).catch(() => undefined);
    if (!found) problems.push(`${entry.file}: missing`);
    else if (found.size !== entry.bytes) problems.push(`${entry.file}: ${found.size} bytes, the manifest says ${entry.bytes}`);
    else if ((await sha256File(file)) !== entry.sha256) {
      problems.push(`${entry.file}: its SHA-256 differs from the manifest's (changed or damaged)`);
    }
  }
  return problems;
}

/** Records a file copied into the backup. */
export async function entryFor(
  backupDir: string,
  file: string,
  target: BackupTarget,
  kind: BackupEntry['kind'],
  mode: number,
): Promise<BackupEntry> {
  const path = join(backupDir, file);
  const bytes = (await stat(path)).size;
  return { file: file.split(sep).join('/'), target, kind, bytes, mode: mode & 0o777, sha256: await sha256File(path) };
}

/** Copies a plain file into the backup (0600: key files are secrets). */
export async function copyIntoBackup(source: string, target: string): Promise<void> {
  await mkdir(dirname(target), { recursive: true, mode: 0o700 });
  await copyFile(source, target);
  await chmod(target, 0o600);
}

/** Puts a backup's file in place: written beside its target, then renamed over it; the recorded mode (at most 0644). */
export async function putInPlace(source: string, target: string, mode: number): Promise<void> {
  await mkdir(dirname(target), { recursive: true, mode: 0o700 });
  const draft = `${target}.restoring`;
  await copyFile(source, draft);
  await chmod(draft, mode & 0o644);
  await rename(draft, target);
}
