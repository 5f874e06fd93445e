import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { storageErrorReply } from '../../../edge/http/storage-error-reply.js';
import { StorageError } from '../../../edge/storage/database.js';
import { CommitRefusedError } from '../../../edge/storage/write-behind.js';

const dataDir = tmpdir();

describe('storageErrorReply', () => {
  it('a full disk (SQLITE_FULL as the cause of a refused commit): 507 naming the data dir, its disk and the free space', async () => {
    const full = new StorageError('SQLITE_FULL: database or disk is full', 'COMMIT', 'SQLITE_FULL');
    const error = new CommitRefusedError('storage write failed: database or disk is full', full);
    const reply = await storageErrorReply(error, dataDir);
    expect(reply?.statusCode).toBe(507);
    expect(reply?.body).toMatchObject({ statusCode: 507, error: 'insufficient-storage' });
    expect(reply?.body.message).toMatch(
      new RegExp(`^the disk holding the data dir ${dataDir} \\(.+ mounted on .+\\) is full \\(.+ free\\): `),
    );
    expect(reply?.body.message).toContain('this change is not on disk');
  });

  it('ENOSPC from the file system is a full disk too', async () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    expect((await storageErrorReply(enospc, dataDir))?.statusCode).toBe(507);
  });

  it('a read-only database or any refused commit: 503 with the cause', async () => {
    const readonly = new StorageError('SQLITE_READONLY: attempt to write a readonly database', 'INSERT', 'SQLITE_READONLY');
    const reply = await storageErrorReply(readonly, dataDir);
    expect(reply).toEqual({
      statusCode: 503,
      body: {
        statusCode: 503,
        error: 'storage-unavailable',
        message: expect.stringContaining(`the gateway's database in ${dataDir} refuses writes (SQLITE_READONLY`) as string,
      },
    });
    expect((await storageErrorReply(new CommitRefusedError('stopping: the database is closing'), dataDir))?.statusCode).toBe(503);
  });

  it('anything else (a bug, a constraint) is not a storage refusal: left to the generic 500', async () => {
    const constraint = new StorageError('SQLITE_CONSTRAINT: UNIQUE constraint failed', 'INSERT', 'SQLITE_CONSTRAINT');
    expect(await storageErrorReply(constraint, dataDir)).toBeUndefined();
    expect(await storageErrorReply(new TypeError('x is undefined'), dataDir)).toBeUndefined();
  });
});
