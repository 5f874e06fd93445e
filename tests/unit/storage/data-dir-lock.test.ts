import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sqlite3 from 'sqlite3';
import ts from 'typescript';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DataDirLock, DataDirLockedError } from '../../../edge/storage/data-dir-lock.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

let dir: string;
let childDir: string;
const locks: DataDirLock[] = [];
const children: ChildProcess[] = [];

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

/** Another process holding the lock with the real DataDirLock; resolves once it holds it. */
async function holdInChild(dataDir: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(childDir, 'hold.mjs'), dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('held')) resolve();
    });
    child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`lock holder exited ${code}: ${out}`)));
  });
  return child;
}

/** Writes an unheld SQLite lock file naming `pid`, as a gateway that died would have left it. */
async function writeUnheldLockFile(file: string, pid: number): Promise<void> {
  const db = await new Promise<sqlite3.Database>((resolve, reject) => {
    const handle = new sqlite3.Database(file, (error) => (error ? reject(error) : resolve(handle)));
  });
  const sql = `CREATE TABLE holder (id INTEGER PRIMARY KEY, pid INTEGER NOT NULL, since INTEGER); INSERT INTO holder VALUES (1, ${pid}, 0)`;
  await new Promise<void>((resolve, reject) => db.exec(sql, (e) => (e ? reject(e) : resolve())));
  await new Promise<void>((resolve) => db.close(() => resolve()));
}

beforeAll(async () => {
  // the child runs the module itself, transpiled (it imports only node and sqlite3)
  childDir = await mkdtemp(join(tmpdir(), 'smartstore-lock-child-'));
  const source = await readFile(join(ROOT, 'edge/storage/data-dir-lock.ts'), 'utf8');
  const out = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
  await writeFile(join(childDir, 'data-dir-lock.js'), out.outputText);
  await writeFile(join(childDir, 'package.json'), JSON.stringify({ type: 'module' }));
  await writeFile(
    join(childDir, 'hold.mjs'),
    // the lock stays referenced (a collected connection would be closed by the garbage collector, freeing the lock)
    `import { DataDirLock } from './data-dir-lock.js';\nconst lock = new DataDirLock(process.argv[2]);\nawait lock.acquire();\n` +
      `process.stdout.write('held\\n');\nsetInterval(() => void lock.isHeld, 60_000);\n`,
  );
  await symlink(join(ROOT, 'node_modules'), join(childDir, 'node_modules'), 'dir');
});

afterAll(async () => {
  await rm(childDir, { recursive: true, force: true });
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smartstore-lock-test-'));
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
  for (const held of locks.splice(0)) await held.release();
  await rm(dir, { recursive: true, force: true });
});

describe('DataDirLock', () => {
  it('acquire creates <dataDir>/gateway.lock (and the dir) and reports this pid as the running gateway; release frees it', async () => {
    const data = join(dir, 'data', 'nested');
    const held = lock(data);
    await held.acquire();
    expect(held.file).toBe(join(data, 'gateway.lock'));
    expect(held.isHeld).toBe(true);
    expect(await DataDirLock.runningGateway(data)).toBe(process.pid);
    await held.release();
    expect(held.isHeld).toBe(false);
    expect(await DataDirLock.runningGateway(data)).toBeUndefined();
    await lock(data).acquire();
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
    await second.release();
    // the refused one did not take the lock from the holder
    expect(await DataDirLock.runningGateway(dir)).toBe(process.pid);
  });

  it('two acquires at the same moment: exactly one wins', async () => {
    const results = await Promise.allSettled([lock().acquire(), lock().acquire()]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
  });

  it('a lock held by another process is refused with its pid; the moment it is SIGKILLed the lock is free', async () => {
    const holder = await holdInChild(dir);
    const refusal = await lock()
      .acquire()
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(refusal).toBeInstanceOf(DataDirLockedError);
    expect(refusal).toMatchObject({ pid: holder.pid, lockFile: join(dir, 'gateway.lock') });
    expect((refusal as Error).message).toContain(`pid ${holder.pid}`);
    expect(await DataDirLock.runningGateway(dir)).toBe(holder.pid);

    holder.kill('SIGKILL');
    await once(holder, 'exit');
    // no waiting, no pid check: the kernel released the lock with the process
    expect(await DataDirLock.runningGateway(dir)).toBeUndefined();
    await lock().acquire();
    expect(await DataDirLock.runningGateway(dir)).toBe(process.pid);
  });

  it('a process holding the lock keeps it against a lock in this process (the OS lock, not heldHere, decides)', async () => {
    const holder = await holdInChild(dir);
    await expect(lock().acquire()).rejects.toMatchObject({ name: 'DataDirLockedError', pid: holder.pid });
    // and the other way round: held here, the child is refused
    holder.kill('SIGKILL');
    await once(holder, 'exit');
    await lock().acquire();
    const refused = spawn(process.execPath, [join(childDir, 'hold.mjs'), dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(refused);
    let stderr = '';
    refused.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(refused, 'exit')) as [number];
    expect(code).not.toBe(0);
    expect(stderr).toContain(`data dir is in use by another gateway (pid ${process.pid}`);
  });

  it('a start while a CLI command asks whether a gateway runs (holding the lock for a moment) is not refused', async () => {
    await writeUnheldLockFile(join(dir, 'gateway.lock'), deadPid());
    // what runningGateway() does: take the write lock to see whether anyone holds it, and let go at once
    const probe = await new Promise<sqlite3.Database>((resolve, reject) => {
      const handle = new sqlite3.Database(join(dir, 'gateway.lock'), (error) => (error ? reject(error) : resolve(handle)));
    });
    await new Promise<void>((resolve, reject) => probe.exec('BEGIN IMMEDIATE', (e) => (e ? reject(e) : resolve())));
    const acquired = lock().acquire();
    setTimeout(() => probe.exec('ROLLBACK', () => probe.close()), 100);
    await acquired;
    expect(await DataDirLock.runningGateway(dir)).toBe(process.pid);
  });

  it.each([
    ['a live unrelated process (this test runner)', () => process.pid],
    ['pid 1', () => 1],
    ['a pid that no longer exists', () => deadPid()],
  ])('a lock file that names %s but is not held does not block', async (_name, pid) => {
    await writeUnheldLockFile(join(dir, 'gateway.lock'), pid());
    await lock().acquire();
    expect(await DataDirLock.runningGateway(dir)).toBe(process.pid);
  });

  it.each([
    ['the pid of a live process (this test runner)', () => `${process.pid}\n`],
    ['pid 1', () => '1\n'],
    ['garbage', () => 'not a pid'],
    ['nothing', () => ''],
  ])('an old-style lock file (text) holding %s does not block and is replaced', async (_name, content) => {
    await writeFile(join(dir, 'gateway.lock'), content());
    expect(await DataDirLock.runningGateway(dir)).toBeUndefined();
    await lock().acquire();
    expect(await DataDirLock.runningGateway(dir)).toBe(process.pid);
  });

  it('a lock in a dir that cannot be created fails with the cause, and holds nothing', async () => {
    await writeFile(join(dir, 'file'), 'x');
    const broken = lock(join(dir, 'file', 'data'));
    await expect(broken.acquire()).rejects.toMatchObject({ code: 'ENOTDIR' });
    expect(broken.isHeld).toBe(false);
    await mkdir(join(dir, 'data'));
    await lock(join(dir, 'data')).acquire();
  });
});
