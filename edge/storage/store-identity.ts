/**
 * The store knows it was set up. A data dir that has run holds `store.json` (the store marker: a random store uuid
 * made once) and the same uuid in gateway.db's `store_identity` table (migration 15). A gateway.db that is missing,
 * empty (0 bytes) or of another store next to that evidence is a lost or swapped database, not a new store: starting
 * silently as an empty store would throw away devices, tokens and the audit trail. The way out is a restore from a
 * backup, or `run --reinit`, which moves the old files aside and starts a new store.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';

export const STORE_MARKER_FILE = 'store.json';

export type StoreMarker = { storeUuid: string; storeId: string; createdAt: string };

export type DatabaseFileState = 'missing' | 'empty' | 'present';

/** What is on disk before the database is opened. `evidence`: files that say this store has run (existing, non-empty). */
export type DataDirFacts = { database: DatabaseFileState; marker: StoreMarker | 'unreadable' | undefined; evidence: string[] };

/** blank: a database file with no tables (its WAL, holding everything since the last checkpoint, was lost) */
export type StoreIdentityProblem = 'missing' | 'empty' | 'blank' | 'different';

export class StoreIdentityError extends Error {
  constructor(
    readonly file: string,
    readonly problem: StoreIdentityProblem,
    readonly dataDir: string,
    detail: string,
  ) {
    const what = {
      missing: 'is missing',
      empty: 'is empty (0 bytes)',
      blank: 'holds no tables (was its WAL file, which held the changes since the last checkpoint, deleted?)',
      different: `belongs to another store (${detail})`,
    }[problem];
    const evidence = problem === 'different' ? STORE_MARKER_FILE : detail;
    super(
      `the store database ${file} ${what}, but this data dir belongs to a store that has run (${evidence}). ` +
        'Refusing to start as an empty store. Put the database back: `smartstore-edge restore BACKUP_DIR` ' +
        '(from `smartstore-edge backup --out`); or start a new store with `smartstore-edge run --reinit`, ' +
        `which moves the old files to ${join(dataDir, 'aside-<time>')}/`,
    );
    this.name = 'StoreIdentityError';
  }
}

/** Pure: whether the data dir may start; `fresh` when nothing says a store ran here. */
export type DataDirVerdict = { verdict: 'start' } | { verdict: 'refuse'; problem: 'missing' | 'empty'; evidence: string[] };

/** Pure: the files that say a store has run here. */
export function evidenceOf(facts: DataDirFacts): string[] {
  return [...(facts.marker === undefined ? [] : [STORE_MARKER_FILE]), ...facts.evidence];
}

export function judgeDataDir(facts: DataDirFacts): DataDirVerdict {
  if (facts.database === 'present') return { verdict: 'start' };
  const evidence = evidenceOf(facts);
  return evidence.length === 0 ? { verdict: 'start' } : { verdict: 'refuse', problem: facts.database, evidence };
}

export async function databaseFileState(file: string): Promise<DatabaseFileState> {
  try {
    return (await stat(file)).size === 0 ? 'empty' : 'present';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
}

async function nonEmptyFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).size > 0;
  } catch {
    return false;
  }
}

export async function readStoreMarker(dataDir: string): Promise<StoreMarker | 'unreadable' | undefined> {
  let text: string;
  try {
    text = await readFile(join(dataDir, STORE_MARKER_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return 'unreadable';
  }
  try {
    const parsed = JSON.parse(text) as Partial<StoreMarker>;
    if (typeof parsed.storeUuid !== 'string') return 'unreadable';
    return { storeUuid: parsed.storeUuid, storeId: String(parsed.storeId ?? ''), createdAt: String(parsed.createdAt ?? '') };
  } catch {
    return 'unreadable';
  }
}

/** Written whole or not at all (temp file + rename), mode 600. */
export async function writeStoreMarker(dataDir: string, marker: StoreMarker): Promise<void> {
  const file = join(dataDir, STORE_MARKER_FILE);
  const draft = `${file}.${process.pid}.${randomUUID().slice(0, 8)}`;
  await writeFile(draft, `${JSON.stringify(marker, null, 2)}\n`, { mode: 0o600 });
  await rename(draft, file);
}

export async function dataDirFacts(dataDir: string, databaseFile: string, identityFiles: readonly string[]): Promise<DataDirFacts> {
  const evidence: string[] = [];
  for (const file of identityFiles) if (await nonEmptyFile(file)) evidence.push(basename(file));
  return { database: await databaseFileState(databaseFile), marker: await readStoreMarker(dataDir), evidence };
}

/** A database file with the files SQLite keeps beside it. */
export const withSidecars = (file: string) => [file, `${file}-wal`, `${file}-shm`, `${file}-journal`];

/**
 * Moves the files (or folders) of a store that exist into `<dataDir>/aside-<time>/` (a key file configured elsewhere
 * is copied and removed: rename cannot cross disks). Returns the folder, or undefined if there was nothing to move.
 */
export async function moveAside(
  dataDir: string,
  files: readonly string[],
  now: Date,
): Promise<{ dir: string; moved: string[] } | undefined> {
  const present = files.filter((file) => existsSync(file));
  if (present.length === 0) return undefined;
  const dir = join(dataDir, `aside-${now.toISOString().replace(/[:.]/g, '-')}`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const moved: string[] = [];
  for (const file of present) {
    const target = join(dir, basename(file));
    try {
      await rename(file, target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
      await cp(file, target, { recursive: true, preserveTimestamps: true });
      await rm(file, { recursive: true });
    }
    moved.push(basename(file));
  }
  return { dir, moved };
}
