import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { SqliteDatabase, StorageError } from '../../../edge/storage/database.js';
import { MigrationError, migrate } from '../../../edge/storage/migrate.js';
import { MIGRATIONS } from '../../../edge/storage/migrations/index.js';
import { WriteBehindWriter, type WriterMetrics } from '../../../edge/storage/write-behind.js';

let dir: string;
let db: SqliteDatabase;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smartstore-db-test-'));
  db = new SqliteDatabase(join(dir, 'nested', 'gateway.db'));
  await db.open();
});

afterEach(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A promise and the function that settles it: a step of a test that waits for the test to say so. Opened when the test
 * ends in any case, so a test that fails while a transaction waits on it does not leave the transaction (and close) hanging.
 */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  onTestFinished(() => open());
  return { opened, open };
}

const names = async (from: Pick<SqliteDatabase, 'all'>) =>
  (await from.all<{ name: string }>('SELECT name FROM t ORDER BY id')).map((r) => r.name);

describe('SqliteDatabase', () => {
  it('opens in WAL mode, creating the folder', async () => {
    expect(db.isOpen).toBe(true);
    expect(await db.get<{ journal_mode: string }>('PRAGMA journal_mode')).toEqual({ journal_mode: 'wal' });
    expect(await db.get<{ foreign_keys: number }>('PRAGMA foreign_keys')).toEqual({ foreign_keys: 1 });
  });

  it('run, get, all and runMany', async () => {
    await db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, data BLOB)');
    expect(await db.run('INSERT INTO t (name, data) VALUES (?, ?)', ['a', Buffer.from([1, 2])])).toEqual({ changes: 1, lastID: 1 });
    await db.runMany('INSERT INTO t (name) VALUES (?)', [['b'], ['c']]);
    await db.runMany('INSERT INTO t (name) VALUES (?)', []);
    expect(await db.get('SELECT name, data FROM t WHERE id = ?', [1])).toEqual({ name: 'a', data: Buffer.from([1, 2]) });
    expect(await db.get('SELECT name FROM t WHERE id = ?', [99])).toBeUndefined();
    expect(await db.all('SELECT name FROM t ORDER BY id')).toEqual([{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
    expect(await db.all('SELECT name FROM t WHERE name = $name', { $name: 'b' })).toEqual([{ name: 'b' }]);
  });

  it('errors are StorageErrors with the SQL and the SQLite code', async () => {
    const error = await db.run('INSERT INTO missing VALUES (1)').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).code).toBe('SQLITE_ERROR');
    expect((error as StorageError).sql).toBe('INSERT INTO missing VALUES (1)');
    expect((error as Error).message).toContain('no such table: missing');
  });

  it('a closed database refuses statements with a StorageError, and close twice is fine', async () => {
    await db.close();
    expect(db.isOpen).toBe(false);
    await expect(db.all('SELECT 1')).rejects.toThrow(StorageError);
    await expect(db.close()).resolves.toBeUndefined();
    await db.open();
  });

  describe('transaction', () => {
    beforeEach(async () => {
      await db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)');
    });

    it('commits and returns the value of work', async () => {
      const value = await db.transaction(async (tx) => {
        await tx.run("INSERT INTO t (name) VALUES ('a')");
        await tx.run("INSERT INTO t (name) VALUES ('b')");
        return 42;
      });
      expect(value).toBe(42);
      expect(await db.all('SELECT name FROM t ORDER BY id')).toEqual([{ name: 'a' }, { name: 'b' }]);
    });

    it('rolls back everything when work throws, and rethrows the same error', async () => {
      await db.run("INSERT INTO t (name) VALUES ('before')");
      const boom = new Error('boom');
      await expect(
        db.transaction(async (tx) => {
          await tx.run("INSERT INTO t (name) VALUES ('inside')");
          await tx.run("UPDATE t SET name = 'changed'");
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect(await db.all('SELECT name FROM t')).toEqual([{ name: 'before' }]);
    });

    it('rolls back when a statement fails (constraint)', async () => {
      await expect(
        db.transaction(async (tx) => {
          await tx.run("INSERT INTO t (name) VALUES ('x')");
          await tx.run('INSERT INTO t (name) VALUES (NULL)');
        }),
      ).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT' });
      expect(await db.all('SELECT * FROM t')).toEqual([]);
    });

    it('runs concurrent transactions one at a time, in call order, even after one fails', async () => {
      const log: string[] = [];
      const work = (name: string, delayMs: number, fail = false) =>
        db.transaction(async (tx) => {
          log.push(`${name} begin`);
          await tx.run('INSERT INTO t (name) VALUES (?)', [name]);
          await sleep(delayMs);
          await tx.run('INSERT INTO t (name) VALUES (?)', [`${name}-2`]);
          log.push(`${name} end`);
          if (fail) throw new Error(`${name} failed`);
          return name;
        });
      const results = await Promise.allSettled([work('t1', 30), work('t2', 0, true), work('t3', 10), work('t4', 0)]);
      expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
        't1',
        't2 failed',
        't3',
        't4',
      ]);
      expect(log).toEqual(['t1 begin', 't1 end', 't2 begin', 't2 end', 't3 begin', 't3 end', 't4 begin', 't4 end']);
      expect((await db.all<{ name: string }>('SELECT name FROM t ORDER BY id')).map((r) => r.name)).toEqual([
        't1',
        't1-2',
        't3',
        't3-2',
        't4',
        't4-2',
      ]);
    });

    it('a statement run outside transaction() while one is under way is not rolled back with it', async () => {
      // e.g. POST /api/devices inserting a device while a StateWriter flush that will fail is between statements
      const failing = db.transaction(async (tx) => {
        await tx.run("INSERT INTO t (name) VALUES ('batch')");
        await sleep(30);
        throw new Error('disk full');
      });
      await sleep(10); // the transaction is between its statements now; this statement waits for it to end
      const outside = db.run("INSERT INTO t (name) VALUES ('device')");
      await expect(failing).rejects.toThrow('disk full');
      await expect(outside).resolves.toMatchObject({ changes: 1 });
      expect(await db.all('SELECT name FROM t')).toEqual([{ name: 'device' }]);
    });

    it('close waits for the transaction under way', async () => {
      const late = db.transaction(async (tx) => {
        await sleep(20);
        await tx.run("INSERT INTO t (name) VALUES ('late')");
      });
      await db.close();
      await late;
      await db.open();
      expect(await db.all('SELECT name FROM t')).toEqual([{ name: 'late' }]);
    });
  });
});

describe('reads see committed data only', () => {
  beforeEach(async () => {
    await db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)');
    await db.run("INSERT INTO t (name) VALUES ('committed')");
  });

  it('a read while a transaction is open sees none of its rows, and answers without waiting for it', async () => {
    const written = gate();
    const release = gate();
    const transaction = db.transaction(async (tx) => {
      await tx.run("INSERT INTO t (name) VALUES ('uncommitted')");
      expect(await names(tx)).toEqual(['committed', 'uncommitted']); // its own statements see its rows
      written.open();
      await release.opened;
    });
    await written.opened;
    // awaited before the transaction is released: a read that waited for it would never answer (the test times out)
    const during = await names(db);
    const counted = await db.get('SELECT count(*) AS n FROM t');
    release.open();
    await transaction;
    expect(during).toEqual(['committed']);
    expect(counted).toEqual({ n: 1 });
    expect(await names(db)).toEqual(['committed', 'uncommitted']);
  });

  it('rows of a transaction that rolls back are never read', async () => {
    const written = gate();
    const release = gate();
    const failing = db.transaction(async (tx) => {
      await tx.run("INSERT INTO t (name) VALUES ('doomed')");
      written.open();
      await release.opened;
      throw new Error('disk full');
    });
    await written.opened;
    const during = await names(db);
    release.open();
    await expect(failing).rejects.toThrow('disk full');
    expect(during).toEqual(['committed']);
    expect(await names(db)).toEqual(['committed']);
  });

  it('during a write-behind flush a read sees none of its rows; after commit() it sees them all', async () => {
    const metrics: WriterMetrics = { flushTimer: () => () => undefined, writeFailed: () => {}, pending: () => {}, dropped: () => {} };
    const writer = new WriteBehindWriter(db, { flushIntervalMs: 60_000, maxPendingWrites: 100 }, metrics, pino({ level: 'silent' }));
    const written = gate();
    const release = gate();
    const names$ = writer.register<string>({
      name: 'names',
      async write(tx, values) {
        await tx.runMany(
          'INSERT INTO t (name) VALUES (?)',
          values.map((v) => [v]),
        );
        written.open();
        await release.opened;
      },
    });
    writer.start();
    names$.put('a', 'flushed-a');
    names$.put('b', 'flushed-b');
    const committed = writer.commit();
    await written.opened;
    const during = await names(db);
    release.open();
    await committed;
    expect(during).toEqual(['committed']);
    // what commit() promised is on disk is what the next read sees (an HTTP 2xx, then a GET)
    expect(await names(db)).toEqual(['committed', 'flushed-a', 'flushed-b']);
    await writer.stop();
  });

  it("dataVersion moves for another process's commit, never for this database's own writes", async () => {
    const before = await db.dataVersion();
    await db.run("INSERT INTO t (name) VALUES ('own')");
    await db.transaction((tx) => tx.run("INSERT INTO t (name) VALUES ('own-too')"));
    expect(await db.dataVersion()).toBe(before);
    const other = new SqliteDatabase(db.path);
    await other.open();
    await other.run("INSERT INTO t (name) VALUES ('from the CLI')");
    await other.close();
    expect(await db.dataVersion()).not.toBe(before);
  });

  it('the reading connection cannot write, and closes before the writer (which removes the WAL as the last one out)', async () => {
    await expect(db.all("INSERT INTO t (name) VALUES ('via a read') RETURNING id")).rejects.toMatchObject({ code: 'SQLITE_READONLY' });
    await db.close();
    expect(existsSync(`${db.path}-wal`)).toBe(false);
    await db.open();
  });

  it('an in-memory database (one connection) reads after the transaction under way, committed rows only', async () => {
    const memory = new SqliteDatabase(':memory:');
    await memory.open();
    try {
      await memory.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)');
      const written = gate();
      const release = gate();
      const failing = memory.transaction(async (tx) => {
        await tx.run("INSERT INTO t (name) VALUES ('doomed')");
        written.open();
        await release.opened;
        throw new Error('rolled back');
      });
      await written.opened;
      const read = names(memory);
      release.open();
      await expect(failing).rejects.toThrow('rolled back');
      expect(await read).toEqual([]);
    } finally {
      await memory.close();
    }
  });
});

describe('migrate', () => {
  const NEWEST = MIGRATIONS.at(-1)?.version ?? 0;
  const tables = async () =>
    (await db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")).map(
      (r) => r.name,
    );

  it('applies every migration once; a second run applies nothing', async () => {
    expect(await migrate(db)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(await tables()).toEqual([
      'alert_silences',
      'alerts',
      'api_tokens',
      'audit_log',
      'campaign_labels',
      'campaigns',
      'certificates',
      'devices',
      'facing_history',
      'facing_state',
      'gateway_meta',
      'hq_commands',
      'kpi_campaigns',
      'kpi_mismatch_days',
      'kpi_predictions',
      'kpi_replenish',
      'kpi_stock_alerts',
      'kpi_stock_outs',
      'kpi_watched_facings',
      'label_bindings',
      'label_prices',
      'label_sightings',
      'planogram',
      'planogram_aisles',
      'planogram_labels',
      'planogram_layout',
      'products',
      'schema_migrations',
      'shelf_history',
      'store_identity',
    ]);
    expect(await migrate(db)).toEqual([]);
    expect(await db.all('SELECT version, name FROM schema_migrations')).toEqual([
      { version: 1, name: 'initial' },
      { version: 2, name: 'gateway-meta' },
      { version: 3, name: 'device-liveness-alert-rearm' },
      { version: 4, name: 'device-kind-case' },
      { version: 5, name: 'api-tokens' },
      { version: 6, name: 'hq-commands' },
      { version: 7, name: 'certificates' },
      { version: 8, name: 'audit-log' },
      { version: 9, name: 'device-kind-ap' },
      { version: 10, name: 'label-bindings' },
      { version: 11, name: 'campaigns' },
      { version: 12, name: 'kpis' },
      { version: 13, name: 'label-sightings' },
      { version: 14, name: 'planogram-labels' },
      { version: 15, name: 'store-identity' },
      { version: 16, name: 'layout-facing-history' },
      { version: 17, name: 'shelf-kpis' },
    ]);
  });

  it('applies only the migrations newer than the database', async () => {
    await migrate(db);
    const next = [...MIGRATIONS, { version: NEWEST + 1, name: 'notes', sql: 'CREATE TABLE notes (id INTEGER PRIMARY KEY)' }];
    expect(await migrate(db, next)).toEqual([NEWEST + 1]);
    expect(await migrate(db, next)).toEqual([]);
    expect(await tables()).toContain('notes');
  });

  it('refuses a database newer than the code', async () => {
    await migrate(db);
    const future = NEWEST + 1;
    await db.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', 0)", [future]);
    const error = await migrate(db).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as MigrationError).version).toBe(future);
    expect((error as Error).message).toBe(
      `database schema version ${future} is newer than this gateway (${NEWEST}): refusing to run an older release on it`,
    );
  });

  it('a failing migration is rolled back and named; earlier ones stay applied', async () => {
    const broken = [...MIGRATIONS, { version: NEWEST + 1, name: 'broken', sql: 'CREATE TABLE half (id INTEGER); CREATE TABLE (' }];
    const error = await migrate(db, broken).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as MigrationError).version).toBe(NEWEST + 1);
    expect((error as Error).message).toMatch(new RegExp(`^migration ${NEWEST + 1} \\(broken\\) failed: `));
    expect(await tables()).not.toContain('half');
    expect(await db.all('SELECT version FROM schema_migrations')).toEqual(MIGRATIONS.map((m) => ({ version: m.version })));
  });

  it('one active alert per key is enforced by the schema', async () => {
    await migrate(db);
    const insert = (id: string, state: string) =>
      db.run(
        'INSERT INTO alerts (id, kind, key, state, severity, title, opened_at, updated_at) ' +
          "VALUES (?, 'low-stock', 'k', ?, 'warning', 't', 1, 1)",
        [id, state],
      );
    await insert('a', 'resolved');
    await insert('b', 'resolved');
    await insert('c', 'open');
    await expect(insert('d', 'acknowledged')).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT' });
  });
});
