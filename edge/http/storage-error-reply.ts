/**
 * A write the disk refused, answered as what it is instead of a generic 500: a full disk is 507 Insufficient Storage
 * with a message naming the disk, the data dir and the free space; any other refusal of the storage (read-only file,
 * I/O error) is 503 — both say the change is not on disk, so the client knows a retry later is the way.
 */
import { StorageError } from '../storage/database.js';
import { describeDisk, diskFullMessage, freeBytesOf, isDiskFull } from '../storage/disk-full.js';
import { CommitRefusedError } from '../storage/write-behind.js';

export type StorageErrorReply = { statusCode: 503 | 507; body: { statusCode: 503 | 507; error: string; message: string } };

const MAX_CAUSE_DEPTH = 8;

const NOT_STORED = 'this change is not on disk (it is kept in memory and retried, but a restart before then loses it); try again later';

/** SQLite codes that mean the storage refuses (not a bug in a statement, such as a constraint) */
const REFUSING_CODES = new Set(['SQLITE_READONLY', 'SQLITE_IOERR', 'SQLITE_CANTOPEN', 'SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_PERM']);

function isStorageRefusal(error: unknown): StorageError | CommitRefusedError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && current instanceof Error; depth++) {
    // a group commit that failed: whatever the cause, the change is not on disk
    if (current instanceof CommitRefusedError) return current;
    if (current instanceof StorageError && REFUSING_CODES.has(current.code ?? '')) return current;
    current = current.cause;
  }
  return undefined;
}

/** The answer for an error a route threw, if it is the storage refusing a write; undefined for anything else. */
export async function storageErrorReply(error: unknown, dataDir: string | undefined): Promise<StorageErrorReply | undefined> {
  if (isDiskFull(error) && dataDir !== undefined) {
    const [disk, free] = await Promise.all([describeDisk(dataDir), freeBytesOf(dataDir)]);
    const message = `${diskFullMessage(dataDir, disk, free)}; ${NOT_STORED}`;
    return { statusCode: 507, body: { statusCode: 507, error: 'insufficient-storage', message } };
  }
  const refusal = isStorageRefusal(error);
  if (!refusal) return undefined;
  const where = dataDir === undefined ? '' : ` in ${dataDir}`;
  const message = `the gateway's database${where} refuses writes (${refusal.message}): ${NOT_STORED}`;
  return { statusCode: 503, body: { statusCode: 503, error: 'storage-unavailable', message } };
}
