import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataDirLock, DataDirLockedError } from '../../../edge/storage/data-dir-lock.js';

let dir: string;
const locks: DataDirLock[] = [];

function lock(dataDir = dir): DataDirLock {
  const created = new DataDirLock(dataDir);
  locks.push(created);
  return created;
}

/** The pid of a process that has exited: nobody holds a lock with it. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '0']);
  if (!child.pid) throw new Error('could not start a child process');
  return child.pid;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smartstore-lock-test-'));
});

afterEach(async () => {
  for (const held of locks.splice(0)) await held.release();
  await rm(dir, { recursive: true, force: true });
});

describe('DataDirLock', () => {
  it('acquire writes this pid into <dataDir>/gateway.lock (creating the dir); release removes it', async () => {
    const data = join(dir, 'data', 'nested');
    const held = lock(data);
    await held.acquire();
    expect(held.file).toBe(join(data, 'gateway.lock'));
    expect(await readFile(held.file, 'utf8')).toBe(`${process.pid}\n`);
    expect(await DataDirLock.runningGateway(data)).toBe(process.pid);
    expect(await readdir(data)).toEqual(['gateway.lock']); // no draft file left behind
    await held.release();
    expect(existsSync(held.file)).toBe(false);
    expect(await DataDirLock.runningGateway(data)).toBeUndefined();
  });

  it('a second lock on the same dir in this process is refused, naming the lock file and this pid', async () => {
    await lock().acquire();
    const second = lock();
    const refusal = await second.acquire().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(DataDirLockedError);
    expect(refusal).toMatchObject({ lockFile: join(dir, 'gateway.lock'), pid: process.pid });
    expect((refusal as Error).message).toContain(join(dir, 'gateway.lock'));
    expect((refusal as Error).message).toContain(`pid ${process.pid}`);
    // the refused one did not take the file from the holder
    expect(await readFile(join(dir, 'gateway.lock'), 'utf8')).toBe(`${process.pid}\n`);
    await second.release();
    expect(existsSync(join(dir, 'gateway.lock'))).toBe(true);
  });

  it('two acquires at the same moment: exactly one wins', async () => {
    const results = await Promise.allSettled([lock().acquire(), lock().acquire()]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
  });

  it('a lock file naming another live process (another gateway) is refused with that pid', async () => {
    const other = process.ppid; // alive while this test runs
    await writeFile(join(dir, 'gateway.lock'), `${other}\n`);
    await expect(lock().acquire()).rejects.toMatchObject({ name: 'DataDirLockedError', pid: other, lockFile: join(dir, 'gateway.lock') });
    expect(await readFile(join(dir, 'gateway.lock'), 'utf8')).toBe(`${other}\n`);
    expect(await DataDirLock.runningGateway(dir)).toBe(other);
  });

  it.each([
    ['a pid that no longer exists (kill -9, power cut)', () => `${deadPid()}\n`],
    ['this pid, held by no lock here (a container restarted as pid 1)', () => `${process.pid}\n`],
    ['garbage', () => 'not a pid'],
    ['nothing', () => ''],
  ])('a stale lock file holding %s is taken over', async (_name, content) => {
    await writeFile(join(dir, 'gateway.lock'), content());
    await lock().acquire();
    expect(await readFile(join(dir, 'gateway.lock'), 'utf8')).toBe(`${process.pid}\n`);
  });

  it('after release, the dir can be locked again', async () => {
    const first = lock();
    await first.acquire();
    await first.release();
    await lock().acquire();
    expect(await DataDirLock.runningGateway(dir)).toBe(process.pid);
  });
});
