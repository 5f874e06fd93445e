import { mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatabaseWatch, fileChange } from '../../../edge/storage/database-watch.js';

describe('fileChange', () => {
  it('nothing opened, or the same device and inode: no change', () => {
    expect(fileChange('/d/gateway.db', undefined, undefined)).toBeUndefined();
    expect(fileChange('/d/gateway.db', { dev: 1, ino: 2 }, { dev: 1, ino: 2 })).toBeUndefined();
  });
  it('gone: deleted; another inode or device: replaced', () => {
    expect(fileChange('/d/gateway.db-wal', { dev: 1, ino: 2 }, undefined)).toBe('gateway.db-wal was deleted under the running gateway');
    expect(fileChange('/d/gateway.db', { dev: 1, ino: 2 }, { dev: 1, ino: 3 })).toBe('gateway.db was replaced under the running gateway');
    expect(fileChange('/d/gateway.db', { dev: 1, ino: 2 }, { dev: 9, ino: 2 })).toBe('gateway.db was replaced under the running gateway');
  });
});

describe('DatabaseWatch', () => {
  let dir: string;
  let lines: { level: number; msg: string; file?: string }[];
  let watch: DatabaseWatch;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'smartstore-watch-test-'));
    lines = [];
    const log = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as { level: number; msg: string }) });
    await writeFile(join(dir, 'gateway.db'), 'db');
    watch = new DatabaseWatch([join(dir, 'gateway.db'), join(dir, 'gateway.db-wal')], dir, 60_000, log);
    await watch.start();
  });
  afterEach(async () => {
    watch.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('untouched files: no problem; the free space of the disk is known', async () => {
    await watch.check();
    expect(watch.problem).toBeUndefined();
    expect(watch.freeBytes).toBeGreaterThan(0);
    expect(lines).toEqual([]);
  });

  it('a replaced database: one fatal line naming the file, however often it is checked after', async () => {
    await writeFile(join(dir, 'other'), 'db');
    await rename(join(dir, 'other'), join(dir, 'gateway.db'));
    for (let i = 0; i < 3; i++) await watch.check();
    expect(watch.problem).toMatch(/^gateway\.db was replaced under the running gateway: .*restore the data dir from a backup$/);
    expect(lines).toEqual([expect.objectContaining({ level: 60, file: join(dir, 'gateway.db'), msg: watch.problem })]);
  });

  it('a file missing at start (the WAL) is watched from when it appears: deleted after that is a problem', async () => {
    await writeFile(join(dir, 'gateway.db-wal'), 'wal');
    await watch.check();
    expect(watch.problem).toBeUndefined();
    await unlink(join(dir, 'gateway.db-wal'));
    await watch.check();
    expect(watch.problem).toMatch(/^gateway\.db-wal was deleted/);
  });
});
