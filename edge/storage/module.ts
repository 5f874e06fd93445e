import { join } from 'node:path';
import type { Logger } from 'pino';
import type { GatewayModule, HealthCheck } from '../core/module.js';
import { DataDirLock } from './data-dir-lock.js';
import { SqliteDatabase } from './database.js';
import { migrate } from './migrate.js';
import { WriteBehindWriter, type WriteBehindOptions, type WriterMetrics } from './write-behind.js';

export const DATABASE_FILE = 'gateway.db';

/**
 * Storage plumbing: the data dir lock, the SQLite connection, its migrations and the write-behind writer. It knows no
 * feature: rooms register what they write with `writer` and read through their own stores on `db`.
 */
export class StorageModule implements GatewayModule {
  readonly name = 'storage';
  readonly db: SqliteDatabase;
  readonly writer: WriteBehindWriter;
  private readonly lock: DataDirLock;
  /** changes written by the last stop(), for the closing log line */
  lastStop: { written: number; unwritten: number } | undefined;

  constructor(
    readonly dataDir: string,
    options: WriteBehindOptions,
    metrics: WriterMetrics,
    log: Logger,
  ) {
    this.db = new SqliteDatabase(join(dataDir, DATABASE_FILE));
    this.lock = new DataDirLock(dataDir);
    this.writer = new WriteBehindWriter(this.db, options, metrics, log);
  }

  async start(): Promise<void> {
    await this.lock.acquire();
    try {
      await this.db.open();
      await migrate(this.db);
      this.writer.start();
    } catch (error) {
      await this.db.close().catch(() => undefined);
      await this.lock.release();
      throw error;
    }
  }

  /** Stops last (modules stop in reverse): writes what every room left pending, then closes. */
  async stop(): Promise<void> {
    try {
      this.lastStop = await this.writer.stop();
      await this.db.close();
    } finally {
      await this.lock.release();
    }
  }

  health(): HealthCheck {
    return this.writer.health();
  }
}
