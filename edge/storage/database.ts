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

/**
 * One SQLite connection (WAL) with a promise API. Writes are serialized: a statement issued outside `transaction()`
 * while a transaction is under way waits for it, so it can neither land inside that transaction nor be rolled back
 * with it. The transaction's own statements go through the scope it is handed. Reads run at once.
 */
export class SqliteDatabase {
  private db: sqlite3.Database | undefined;
  private writeTail: Promise<unknown> = Promise.resolve();
  private readonly scope: TransactionScope = {
    exec: (sql) => this.execNow(sql),
    run: (sql, params) => this.runNow(sql, params),
    runMany: (sql, rows) => this.runManyNow(sql, rows),
    get: (sql, params) => this.get(sql, params),
    all: (sql, params) => this.all(sql, params),
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
    this.db = await new Promise<sqlite3.Database>((resolve, reject) => {
      const db = new sqlite3.Database(this.path, (error) => (error ? reject(wrap(error, 'open')) : resolve(db)));
    });
    // WAL: readers never block the writer; NORMAL sync is durable across process crashes (kill -9) in WAL mode.
    const synchronous = this.options.synchronous ?? 'NORMAL';
    await this.execNow(
      `PRAGMA journal_mode = WAL; PRAGMA synchronous = ${synchronous}; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;`,
    );
  }

  async close(): Promise<void> {
    const db = this.db;
    if (!db) return;
    await this.writeTail.catch(() => undefined);
    this.db = undefined;
    await new Promise<void>((resolve, reject) => db.close((error) => (error ? reject(wrap(error, 'close')) : resolve())));
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

  get<T>(sql: string, params: SqlParams = []): Promise<T | undefined> {
    return new Promise((resolve, reject) =>
      this.handle.get(sql, params, (error, row) => (error ? reject(wrap(error, sql)) : resolve(row as T | undefined))),
    );
  }

  all<T>(sql: string, params: SqlParams = []): Promise<T[]> {
    return new Promise((resolve, reject) =>
      this.handle.all(sql, params, (error, rows) => (error ? reject(wrap(error, sql)) : resolve(rows as T[]))),
    );
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
