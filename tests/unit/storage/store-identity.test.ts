import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  dataDirFacts,
  judgeDataDir,
  moveAside,
  readStoreMarker,
  StoreIdentityError,
  writeStoreMarker,
} from '../../../edge/storage/store-identity.js';

describe('judgeDataDir', () => {
  const marker = { storeUuid: 'u-1', storeId: 's', createdAt: '2026-01-01T00:00:00.000Z' };

  it('a present database starts, whatever else is there', () => {
    expect(judgeDataDir({ database: 'present', marker, evidence: ['pseudonym.key'] })).toEqual({ verdict: 'start' });
  });

  it('a fresh dir (no database, nothing that says a store ran here) starts', () => {
    expect(judgeDataDir({ database: 'missing', marker: undefined, evidence: [] })).toEqual({ verdict: 'start' });
    expect(judgeDataDir({ database: 'empty', marker: undefined, evidence: [] })).toEqual({ verdict: 'start' });
  });

  it.each(['missing', 'empty'] as const)('a %s database next to the marker or another identity file is refused, naming it', (database) => {
    const refused = (evidence: string[]) => ({ verdict: 'refuse', problem: database, evidence });
    expect(judgeDataDir({ database, marker, evidence: ['pseudonym.key'] })).toEqual(refused(['store.json', 'pseudonym.key']));
    expect(judgeDataDir({ database, marker: undefined, evidence: ['relay-outbox.db'] })).toEqual(refused(['relay-outbox.db']));
    expect(judgeDataDir({ database, marker: 'unreadable', evidence: [] })).toEqual(refused(['store.json']));
  });
});

describe('StoreIdentityError', () => {
  it('names the file, what is wrong and both ways out in one line', () => {
    const error = new StoreIdentityError('/data/gateway.db', 'empty', '/data', 'store.json, pseudonym.key');
    expect(error.message).not.toContain('\n');
    expect(error.message).toContain(
      'the store database /data/gateway.db is empty (0 bytes), ' +
        'but this data dir belongs to a store that has run (store.json, pseudonym.key)',
    );
    expect(error.message).toContain('`smartstore-edge restore BACKUP_DIR`');
    expect(error.message).toContain('`smartstore-edge run --reinit`, which moves the old files to /data/aside-<time>/');
    expect(new StoreIdentityError('/data/gateway.db', 'blank', '/data', 'store.json').message).toContain(
      'the store database /data/gateway.db holds no tables ' +
        '(was its WAL file, which held the changes since the last checkpoint, deleted?), ' +
        'but this data dir belongs to a store that has run (store.json)',
    );
  });
});

describe('store files on disk', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'smartstore-identity-test-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('the marker is written whole, mode 600, and read back; a broken one reads as unreadable, none as undefined', async () => {
    expect(await readStoreMarker(dir)).toBeUndefined();
    const marker = { storeUuid: 'u-2', storeId: 'store-7', createdAt: '2026-01-01T00:00:00.000Z' };
    await writeStoreMarker(dir, marker);
    expect(await readStoreMarker(dir)).toEqual(marker);
    expect((await stat(join(dir, 'store.json'))).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['store.json']);
    await writeFile(join(dir, 'store.json'), '{ half');
    expect(await readStoreMarker(dir)).toBe('unreadable');
  });

  it('facts: the database state and which identity files exist with content', async () => {
    await writeFile(join(dir, 'gateway.db'), '');
    await writeFile(join(dir, 'pseudonym.key'), 'k');
    await writeFile(join(dir, 'relay-outbox.db'), '');
    const identityFiles = [join(dir, 'pseudonym.key'), join(dir, 'relay-outbox.db'), join(dir, 'none')];
    expect(await dataDirFacts(dir, join(dir, 'gateway.db'), identityFiles)).toEqual({
      database: 'empty',
      marker: undefined,
      evidence: ['pseudonym.key'],
    });
  });

  it('moveAside moves the files that exist into one aside-<time> folder and leaves the rest', async () => {
    await writeFile(join(dir, 'gateway.db'), 'db');
    await writeFile(join(dir, 'store.json'), '{}');
    await writeFile(join(dir, 'planogram.yaml'), 'p');
    const files = [join(dir, 'gateway.db'), join(dir, 'gateway.db-wal'), join(dir, 'store.json')];
    const aside = await moveAside(dir, files, new Date('2026-03-04T05:06:07.089Z'));
    expect(aside).toEqual({ dir: join(dir, 'aside-2026-03-04T05-06-07-089Z'), moved: ['gateway.db', 'store.json'] });
    expect(await readFile(join(dir, 'aside-2026-03-04T05-06-07-089Z', 'gateway.db'), 'utf8')).toBe('db');
    expect(existsSync(join(dir, 'gateway.db'))).toBe(false);
    expect(existsSync(join(dir, 'planogram.yaml'))).toBe(true);
    expect(await moveAside(dir, [join(dir, 'gateway.db')], new Date())).toBeUndefined();
  });
});
