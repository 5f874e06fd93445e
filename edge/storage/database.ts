import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import sqlite3 from 'sqlite3';

export type SqlValue = string | number | bigint | null | Buffer;
export type SqlParams = SqlValue[] | Record<string, SqlValue>;

export class StorageError extends Error {
  constructor(
    message: string,
    readonly sql: string,
    readonly code: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StorageError';
  }
}

function wrap(error: Error & { code?: string }, sql: string): StorageError {
  return new StorageError(`${error.message} (in: ${sql.slice(0, 80)})`, sql, error.code, { cause: error });
}

/** The statements of one transaction: they run at once, inside it (see SqliteDatabase.transaction). */
export type TransactionScope = {
  exec(sql: string): Promise<void>;
  run(sql: string, params?: SqlParams): Promise<{ changes: number; lastID: number }>;
  runMany(sql: string, rows: readonly SqlParams[]): Promise<void>;
  get<T>(sql: string, params?: SqlParams): Promise<T | undefined>;
  all<T>(sql: string, params?: SqlParams): Promise<T[]>;
};

/**
 * A step that commits in the same transaction as a change (its audit entry): both are on disk, or neither is.
 */
export type TransactionStep = (tx: TransactionScope) => Promise<unknown>;

function getOn<T>(handle: sqlite3.Database, sql: string, params: SqlParams): Promise<T | undefined> {
  return new Promise((resolve, reject) =>
    handle.get(sql, params, (error, row) => (error ? reject(wrap(error, sql)) : resolve(row as T | undefined))),
  );
}

function allOn<T>(handle: sqlite3.Database, sql: string, params: SqlParams): Promise<T[]> {
  return new Promise((resolve, reject) =>
    handle.all(sql, params, (error, rows) => (error ? reject(wrap(error, sql)) : resolve(rows as T[]))),
  );
}

/** `mode`: sqlite3's OPEN_* flags (FULLMUTEX as its default has it: node-sqlite3 runs statements on the thread pool) */
function openConnection(path: string, mode: number): Promise<sqlite3.Database> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(path, mode, (error) => (error ? reject(wrap(error, 'open')) : resolve(db)));
  });
}

function closeConnection(db: sqlite3.Database): Promise<void> {
  return new Promise((resolve, reject) => db.close((error) => (error ? reject(wrap(error, 'close')) : resolve())));
}

/**
 * A SQLite database (WAL) with a promise API, on two connections: one that writes and one that only reads.
 *
 * Writes are serialized on the writing connection: a statement issued outside `transaction()` while a transaction is
 * under way waits for it, so it can neither land inside that transaction nor be rolled back with it. The transaction's
 * own statements, its reads too, go through the scope it is handed.
 *
 * Reads (`get`, `all`) see committed data only. They run at once on the reading connection, where WAL gives each
 * statement the last committed snapshot: a write-behind flush between its statements is invisible to them (on the
 * writing connection they would see its rows, and rows a failing flush then rolls back), and they never wait for it.
 * An in-memory database cannot be opened twice, so there reads wait for the writes issued before them instead.
 */
export class SqliteDatabase {
  /** the writing connection */
  private db: sqlite3.Database | undefined;
  /** the reading connection (read-only); undefined for ':memory:' */
  private reader: sqlite3.Database | undefined;
  private writeTail: Promise<unknown> = Promise.resolve();
  private readonly scope: TransactionScope = {
    exec: (sql) => this.execNow(sql),
    run: (sql, params) => this.runNow(sql, params),
    runMany: (sql, rows) => this.runManyNow(sql, rows),
    get: (sql, params = []) => getOn(this.handle, sql, params),
    all: (sql, params = []) => allOn(this.handle, sql, params),
  };

  /**
   * `synchronous`: NORMAL (default) survives a process crash in WAL mode but may lose the last commits on power loss;
   * FULL syncs the WAL on every commit, for stores whose commit is a promise to someone else (the relay's outbox).
   */
  constructor(
    readonly path: string,
    private readonly options: { synchronous?: 'NORMAL' | 'FULL' } = {},
  ) {}

  async open(): Promise<void> {
    if (this.path !== ':memory:') {
      await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
      // created 0600 before SQLite creates it 0644 (its WAL and shm files take the database file's mode)
      // (a file this user may only read is left to SQLite, which opens it read-only)
      await open(this.path, 'a', 0o600).then(
        (file) => file.close(),
        () => undefined,
      );
    }
    this.db = await openConnection(this.path, sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE | sqlite3.OPEN_FULLMUTEX);
    // WAL: readers never block the writer; NORMAL sync is durable across process crashes (kill -9) in WAL mode.
    const synchronous = this.options.synchronous ?? 'NORMAL';
    await this.execNow(
      `PRAGMA journal_mode = WAL; PRAGMA synchronous = ${synchronous}; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;`,
    );
    if (this.path === ':memory:') return;
    try {
      // opened after the writer made the file a WAL database; the WAL mode is the file's, so the reader is in it too
      const reader = await openConnection(this.path, sqlite3.OPEN_READONLY | sqlite3.OPEN_FULLMUTEX);
      this.reader = reader;
      const pragmas = 'PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;';
      await new Promise<void>((resolve, reject) => reader.exec(pragmas, (error) => (error ? reject(wrap(error, pragmas)) : resolve())));
    } catch (error) {
      await this.close().catch(() => undefined);
      throw error;
    }
  }

  async close(): Promise<void> {
    const db = this.db;
    if (!db) return;
    await this.writeTail.catch(() => undefined);
    const reader = this.reader;
    this.db = undefined;
    this.reader = undefined;
    // the reader first: the writer, closing last, checkpoints the WAL into the database file and removes it
    let readerError: StorageError | undefined;
    if (reader) await closeConnection(reader).catch((error: StorageError) => (readerError = error));
    await closeConnection(db);
    if (readerError) throw readerError;
  }

  get isOpen(): boolean {
    return this.db !== undefined;
  }

  private get handle(): sqlite3.Database {
    if (!this.db) throw new StorageError('database is not open', '', 'SQLITE_MISUSE');
    return this.db;
  }

  exec(sql: string): Promise<void> {
    return this.exclusive(() => this.execNow(sql));
  }

  run(sql: string, params: SqlParams = []): Promise<{ changes: number; lastID: number }> {
    return this.exclusive(() => this.runNow(sql, params));
  }

  private execNow(sql: string): Promise<void> {
    return new Promise((resolve, reject) => this.handle.exec(sql, (error) => (error ? reject(wrap(error, sql)) : resolve())));
  }

  private runNow(sql: string, params: SqlParams = []): Promise<{ changes: number; lastID: number }> {
    return new Promise((resolve, reject) =>
      this.handle.run(sql, params, function (this: sqlite3.RunResult, error: Error | null) {
        if (error) reject(wrap(error, sql));
        else resolve({ changes: this.changes, lastID: this.lastID });
      }),
    );
  }

  /** The first row of a query, from committed data (see the class comment). */
  get<T>(sql: string, params: SqlParams = []): Promise<T | undefined> {
    return this.read((handle) => getOn<T>(handle, sql, params));
  }

  /** Every row of a query, from committed data (see the class comment). */
  all<T>(sql: string, params: SqlParams = []): Promise<T[]> {
    return this.read((handle) => allOn<T>(handle, sql, params));
  }

  /**
   * SQLite's `PRAGMA data_version` of the writing connection: it changes only when another connection (the CLI, in
   * another process) commits to the file, never for this database's own writes. Polling it is how the running gateway
   * notices store IT's changes without reading the tables. (The reading connection's would move with every flush.)
   */
  async dataVersion(): Promise<number> {
    const row = await getOn<{ data_version: number }>(this.handle, 'PRAGMA data_version', []);
    return row?.data_version ?? 0;
  }

  private async read<T>(query: (handle: sqlite3.Database) => Promise<T>): Promise<T> {
    if (this.reader) return query(this.reader);
    // ':memory:' (one connection): after the transaction under way, whose rows are uncommitted until it ends
    if (this.db) return this.writeTail.then(() => query(this.handle));
    return query(this.handle); // not open: the StorageError it throws
  }

  /** Runs many rows through one prepared statement (inside a transaction, this is the batched write path). */
  async runMany(sql: string, rows: readonly SqlParams[]): Promise<void> {
    return this.exclusive(() => this.runManyNow(sql, rows));
  }

  private async runManyNow(sql: string, rows: readonly SqlParams[]): Promise<void> {
    if (rows.length === 0) return;
    const statement = await new Promise<sqlite3.Statement>((resolve, reject) => {
      const prepared = this.handle.prepare(sql, (error) => (error ? reject(wrap(error, sql)) : resolve(prepared)));
    });
    try {
      // Queue every row at once (the statement runs them in order): one round trip through the event loop per
      // batch instead of one per row, which is what makes a 10,000-row planogram load in milliseconds.
      await new Promise<void>((resolve, reject) => {
        let pending = rows.length;
        let failed = false;
        for (const row of rows) {
          statement.run(row, (error) => {
            if (failed) return;
            if (error) {
              failed = true;
              reject(wrap(error, sql));
            } else if (--pending === 0) resolve();
          });
        }
      });
    } finally {
      await new Promise<void>((resolve) => statement.finalize(() => resolve()));
    }
  }

  /**
   * Runs `work` inside BEGIN IMMEDIATE … COMMIT, one transaction at a time; rolls back if it throws. Its statements
   * go through the scope it is given (statements on the database itself would wait for the transaction to end).
   */
  transaction<T>(work: (tx: TransactionScope) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      await this.execNow('BEGIN IMMEDIATE');
      try {
        const value = await work(this.scope);
        await this.execNow('COMMIT');
        return value;
      } catch (error) {
        await this.execNow('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.writeTail.then(work);
    this.writeTail = result.catch(() => undefined);
    return result;
  }
}
