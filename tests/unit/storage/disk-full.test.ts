import { describe, expect, it } from 'vitest';
import { StorageError } from '../../../edge/storage/database.js';
import { diskFullMessage, formatBytes, isDiskFull, mountOf } from '../../../edge/storage/disk-full.js';

describe('isDiskFull', () => {
  it("SQLITE_FULL and ENOSPC, also as the cause of a wrapping error; SQLite's message as text", () => {
    expect(isDiskFull(new StorageError('database or disk is full', 'INSERT', 'SQLITE_FULL'))).toBe(true);
    expect(isDiskFull(Object.assign(new Error('write'), { code: 'ENOSPC' }))).toBe(true);
    const deep = new StorageError('full', 'COMMIT', 'SQLITE_FULL');
    expect(isDiskFull(new Error('commit refused', { cause: new Error('x', { cause: deep }) }))).toBe(true);
    expect(isDiskFull({ message: 'SQLITE_FULL: database or disk is full (in: COMMIT)' })).toBe(true);
  });
  it('other storage errors are not', () => {
    expect(isDiskFull(new StorageError('attempt to write a readonly database', 'INSERT', 'SQLITE_READONLY'))).toBe(false);
    expect(isDiskFull(undefined)).toBe(false);
    expect(isDiskFull('full')).toBe(false);
  });
});

describe('diskFullMessage', () => {
  it('names the data dir, the disk and what is free', () => {
    expect(diskFullMessage('/var/lib/smartstore', '/dev/sda2 mounted on /var', 12_288)).toBe(
      'the disk holding the data dir /var/lib/smartstore (/dev/sda2 mounted on /var) is full (12.0 KB free): ' +
        'changes are refused until space is freed there; what was acknowledged before is kept',
    );
    expect(diskFullMessage('/data', undefined, undefined)).toContain('the disk holding the data dir /data is full (free space unknown)');
  });
  it('formatBytes', () => {
    expect([0, 1023, 1536, 5 * 1024 ** 3].map(formatBytes)).toEqual(['0 B', '1023 B', '1.5 KB', '5.0 GB']);
  });
});

describe('mountOf', () => {
  const mounts = [
    '/dev/root / ext4 rw 0 0',
    '/dev/sdb1 /var ext4 rw 0 0',
    'tmpfs /var/lib/smart\\040store tmpfs rw 0 0',
    '/dev/sdc1 /variant ext4 rw 0 0',
    '',
  ].join('\n');
  it('the longest mount point holding the path (escaped spaces read back)', () => {
    expect(mountOf(mounts, '/var/lib/smartstore')).toBe('/dev/sdb1 mounted on /var');
    expect(mountOf(mounts, '/var/lib/smart store/data')).toBe('tmpfs mounted on /var/lib/smart store');
    expect(mountOf(mounts, '/variant/x')).toBe('/dev/sdc1 mounted on /variant');
    expect(mountOf(mounts, '/home')).toBe('/dev/root mounted on /');
    expect(mountOf('', '/home')).toBeUndefined();
  });
});
