import { existsSync } from 'node:fs';
import { mkdir, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import sqlite3 from 'sqlite3';

export const LOCK_FILE = 'gateway.lock';

export class DataDirLockedError extends Error {
  constructor(
    readonly lockFile: string,
    /** the holder's pid as it wrote it (information for people; the OS lock decides), -1 if unknown */
    readonly pid: number,
  ) {
    super(
      `data dir is in use by another gateway (pid ${pid < 0 ? 'unknown' : pid}, lock ${lockFile}): ` +
        'stop it first, or give this one another dataDir',
    );
    this.name = 'DataDirLockedError';
  }
}

type Connection = sqlite3.Database;

const openConnection = (file: string, mode: number) =>
  new Promise<Connection>((resolve, reject) => {
    const db = new sqlite3.Database(file, mode, (error) => (error ? reject(error) : resolve(db)));
  });
const exec = (db: Connection, sql: string) =>
  new Promise<void>((resolve, reject) => db.exec(sql, (error) => (error ? reject(error) : resolve())));
const closeConnection = (db: Connection) => new Promise<void>((resolve) => db.close(() => resolve()));
/** longer than any `runningGateway()` probe holds the lock */
const PROBE_WAIT_MS = 500;
const errorCode = (error: unknown) => (error as { code?: string } | undefined)?.code;

/** The pid the holder wrote, read under a SHARED lock (which the holder's RESERVED lock allows); -1 if unreadable. */
async function holderPid(db: Connection): Promise<number> {
  try {
    await exec(db, 'PRAGMA busy_timeout = 1000');
    const row = await new Promise<{ pid: number } | undefined>((resolve, reject) =>
      db.get('SELECT pid FROM holder WHERE id = 1', (error, found) =>
        error ? reject(error) : resolve(found as { pid: number } | undefined),
      ),
    );
    return typeof row?.pid === 'number' ? row.pid : -1;
  } catch {
    return -1;
  }
}

/** Tries to take the write lock within `waitMs`; `false` if another connection (another gateway) holds it. */
async function tryBeginImmediate(db: Connection, waitMs = 0): Promise<boolean> {
  try {
    await exec(db, `PRAGMA busy_timeout = ${waitMs}; BEGIN IMMEDIATE`);
    return true;
  } catch (error) {
    if (errorCode(error) === 'SQLITE_BUSY' || errorCode(error) === 'SQLITE_LOCKED') return false;
    throw error;
  }
}

/**
 * One gateway per data dir: two gateways on one SQLite file would each believe they own the devices, alerts and
 * outbox. The lock is an OS lock, released by the kernel when the holder dies (kill -9, power cut, OOM): `gateway.lock`
 * is a small SQLite database on which the holder keeps a write transaction (`BEGIN IMMEDIATE`, SQLite's RESERVED lock,
 * a POSIX fcntl lock) open for as long as it runs. Nobody guesses from pids whether the holder still lives; the pid in
 * the file's `holder` table only names the holder in the refusal (readers may read while the write lock is held).
 *
 * POSIX locks belong to a process, but SQLite keeps the lock state of every connection in this process itself, so a
 * second gateway in the same process (tests, a demo) is refused too; `heldHere` also refuses it before any I/O. The
 * lock file is never opened with plain `fs` here: closing any descriptor of a file drops this process's locks on it.
 * It is not removed on release either (removing it would let a late starter lock a file that is no longer the one).
 */
export class DataDirLock {
  /** lock files held by this process, absolute */
  private static readonly heldHere = new Set<string>();
  readonly file: string;
  private connection: Connection | undefined;

  constructor(dataDir: string) {
    this.file = resolve(dataDir, LOCK_FILE);
  }

  async acquire(): Promise<void> {
    // claimed before the first await, so two acquires in this process cannot both pass
    if (DataDirLock.heldHere.has(this.file)) throw new DataDirLockedError(this.file, process.pid);
    DataDirLock.heldHere.add(this.file);
    try {
      await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
      this.connection = await this.take();
    } catch (error) {
      DataDirLock.heldHere.delete(this.file);
      throw error;
    }
  }

  private async take(): Promise<Connection> {
    // bounded: an old-style lock file (a pid in text, before this lock) is replaced once
    for (let attempt = 0; ; attempt++) {
      const db = await openConnection(this.file, sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE);
      try {
        await this.hold(db);
        return db;
      } catch (error) {
        await closeConnection(db);
        if (errorCode(error) !== 'SQLITE_NOTADB' || attempt > 0) throw error;
        await unlink(this.file).catch(() => undefined);
      }
    }
  }

  /** Writes this pid (information) and then keeps the write lock until release or death. */
  private async hold(db: Connection): Promise<void> {
    await exec(db, 'PRAGMA journal_mode = DELETE');
    // two rounds at most: a starter racing between our commit and our re-lock may have written its pid last
    for (let round = 0; round < 2; round++) {
      // a short wait: `runningGateway()` (a CLI command asking) holds the lock for a moment, a gateway holds it for good
      if (!(await tryBeginImmediate(db, PROBE_WAIT_MS))) throw new DataDirLockedError(this.file, await holderPid(db));
      await exec(db, 'CREATE TABLE IF NOT EXISTS holder (id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER NOT NULL, since INTEGER)');
      await exec(db, `INSERT OR REPLACE INTO holder (id, pid, since) VALUES (1, ${process.pid}, ${Date.now()})`);
      // the commit needs readers (a refused starter reading the pid) out of the way for a moment
      await exec(db, 'PRAGMA busy_timeout = 2000; COMMIT');
      if (!(await tryBeginImmediate(db))) throw new DataDirLockedError(this.file, await holderPid(db));
      if ((await holderPid(db)) === process.pid) return;
      await exec(db, 'ROLLBACK');
    }
    // held, though the file names the racer that lost: still ours
    if (!(await tryBeginImmediate(db))) throw new DataDirLockedError(this.file, await holderPid(db));
  }

  async release(): Promise<void> {
    const db = this.connection;
    if (!db) return;
    this.connection = undefined;
    await exec(db, 'ROLLBACK').catch(() => undefined);
    await closeConnection(db);
    DataDirLock.heldHere.delete(this.file);
  }

  get isHeld(): boolean {
    return this.connection !== undefined;
  }

  /** The pid of the gateway running on a data dir (-1 if it did not say), if one runs (the CLI asks this). */
  static async runningGateway(dataDir: string): Promise<number | undefined> {
    const file = join(resolve(dataDir), LOCK_FILE);
    if (DataDirLock.heldHere.has(file)) return process.pid;
    if (!existsSync(file)) return undefined;
    let db: Connection;
    try {
      db = await openConnection(file, sqlite3.OPEN_READWRITE);
    } catch {
      return undefined;
    }
    try {
      if (await tryBeginImmediate(db)) {
        await exec(db, 'ROLLBACK');
        return undefined;
      }
      return await holderPid(db);
    } catch {
      // an old-style lock file (not SQLite): no gateway of this release holds it
      return undefined;
    } finally {
      await closeConnection(db);
    }
  }
}
