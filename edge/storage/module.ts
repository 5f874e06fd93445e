import { chmod, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { GatewayModule, HealthCheck } from '../core/module.js';
import { DataDirLock } from './data-dir-lock.js';
import { DatabaseWatch } from './database-watch.js';
import { SqliteDatabase } from './database.js';
import { describeDisk, diskFullMessage, isDiskFull } from './disk-full.js';
import { migrate } from './migrate.js';
import {
  dataDirFacts,
  evidenceOf,
  judgeDataDir,
  moveAside,
  readStoreMarker,
  STORE_MARKER_FILE,
  StoreIdentityError,
  withSidecars,
  writeStoreMarker,
} from './store-identity.js';
import { WriteBehindWriter, type WriteBehindOptions, type WriterMetrics } from './write-behind.js';

declare module '../core/module.js' {
  interface GatewayServices {
    storage: StorageModule;
  }
}

export const DATABASE_FILE = 'gateway.db';

export type StoreIdentityOptions = {
  /** the configured store id, written into store.json for people */
  storeId?: string;
  /** other files that exist only once this store has run (the pseudonym key, the relay outbox database) */
  identityFiles?: readonly string[];
  /** start as a new store if the database is lost or another store's: the old files go to `<dataDir>/aside-<time>/` */
  reinit?: boolean;
  /** how often the database files are checked for being deleted or replaced under the running gateway */
  watchIntervalMs?: number;
  now?: () => number;
};

const DEFAULT_WATCH_INTERVAL_MS = 2_000;

/**
 * Storage plumbing: the data dir lock, the store's identity, the SQLite connection, its migrations, the watch on its
 * files and the write-behind writer. It knows no feature: rooms register what they write with `writer` and read
 * through their own stores on `db`.
 */
export class StorageModule implements GatewayModule {
  readonly name = 'storage';
  readonly db: SqliteDatabase;
  readonly writer: WriteBehindWriter;
  readonly databaseFile: string;
  private readonly lock: DataDirLock;
  private readonly watch: DatabaseWatch;
  private disk: string | undefined;
  /** changes written by the last stop(), for the closing log line */
  lastStop: { written: number; unwritten: number } | undefined;

  constructor(
    readonly dataDir: string,
    options: WriteBehindOptions,
    metrics: WriterMetrics,
    private readonly log: Logger,
    private readonly identity: StoreIdentityOptions = {},
  ) {
    this.databaseFile = join(dataDir, DATABASE_FILE);
    this.db = new SqliteDatabase(this.databaseFile);
    this.lock = new DataDirLock(dataDir);
    this.writer = new WriteBehindWriter(this.db, options, metrics, log);
    const watched = [this.databaseFile, `${this.databaseFile}-wal`];
    this.watch = new DatabaseWatch(watched, dataDir, identity.watchIntervalMs ?? DEFAULT_WATCH_INTERVAL_MS, log);
  }

  async start(): Promise<void> {
    await this.lock.acquire();
    try {
      await this.openStore();
      await this.keepFilesPrivate();
      this.disk = await describeDisk(this.dataDir);
      await this.watch.start();
      this.writer.start();
    } catch (error) {
      this.watch.stop();
      await this.db.close().catch(() => undefined);
      await this.lock.release();
      throw error;
    }
  }

  /** Refuses a lost or swapped database next to a store's other files; makes a new store's identity. */
  private async openStore(): Promise<void> {
    const facts = await dataDirFacts(this.dataDir, this.databaseFile, this.identity.identityFiles ?? []);
    const judged = judgeDataDir(facts);
    let setAside = false;
    if (judged.verdict === 'refuse') {
      await this.reinitOrRefuse(new StoreIdentityError(this.databaseFile, judged.problem, this.dataDir, judged.evidence.join(', ')));
      setAside = true;
    }
    await this.db.open();
    const evidence = evidenceOf(facts);
    if (!setAside && facts.database === 'present' && evidence.length > 0 && (await this.holdsNoTables())) {
      await this.db.close();
      await this.reinitOrRefuse(new StoreIdentityError(this.databaseFile, 'blank', this.dataDir, evidence.join(', ')));
      setAside = true;
      await this.db.open();
    }
    await migrate(this.db);
    let storeUuid = await this.databaseStoreUuid();
    const marker = await readStoreMarker(this.dataDir);
    if (typeof marker === 'object' && marker.storeUuid !== storeUuid) {
      await this.db.close();
      const detail = `its store uuid is ${storeUuid}, ${STORE_MARKER_FILE} says ${marker.storeUuid}`;
      await this.reinitOrRefuse(new StoreIdentityError(this.databaseFile, 'different', this.dataDir, detail));
      await this.db.open();
      await migrate(this.db);
      storeUuid = await this.databaseStoreUuid();
    } else if (this.identity.reinit && !setAside) {
      this.log.warn({ dataDir: this.dataDir }, '--reinit given, but the store is intact: nothing was moved aside');
    }
    if (typeof marker !== 'object' || marker.storeUuid !== storeUuid) {
      // a new store, or one from before the marker (or whose marker was lost): the database says who it is
      const createdAt = new Date(this.now()).toISOString();
      await writeStoreMarker(this.dataDir, { storeUuid, storeId: this.identity.storeId ?? '', createdAt });
    }
  }

  private async reinitOrRefuse(refusal: StoreIdentityError): Promise<void> {
    if (!this.identity.reinit) throw refusal;
    const identityFiles = (this.identity.identityFiles ?? []).flatMap(withSidecars);
    const files = [...withSidecars(this.databaseFile), join(this.dataDir, STORE_MARKER_FILE), ...identityFiles];
    const aside = await moveAside(this.dataDir, files, new Date(this.now()));
    this.log.warn(
      { dataDir: this.dataDir, reason: refusal.problem, asideDir: aside?.dir, moved: aside?.moved ?? [] },
      `--reinit: the old store's files were moved to ${aside?.dir ?? '(nothing to move)'}; starting a new store`,
    );
  }

  private async holdsNoTables(): Promise<boolean> {
    const row = await this.db.get<{ tables: number }>("SELECT count(*) AS tables FROM sqlite_master WHERE type = 'table'");
    return (row?.tables ?? 0) === 0;
  }

  private async databaseStoreUuid(): Promise<string> {
    const row = await this.db.get<{ store_uuid: string }>('SELECT store_uuid FROM store_identity WHERE id = 1');
    if (!row) throw new StoreIdentityError(this.databaseFile, 'different', this.dataDir, 'it has no store uuid');
    return row.store_uuid;
  }

  /**
   * Database files 0600 (SQLite creates the WAL and shm with the database's mode). The data dir is made 0700 when the
   * gateway creates it; one that exists is left as store IT made it (it may be a shared folder) and named if open.
   */
  private async keepFilesPrivate(): Promise<void> {
    for (const file of withSidecars(this.databaseFile)) {
      const mode = await stat(file).then(
        (found) => found.mode & 0o777,
        () => undefined,
      );
      if (mode !== undefined && (mode & 0o077) !== 0) await chmod(file, 0o600).catch(() => undefined);
    }
    const dirMode = (await stat(this.dataDir)).mode & 0o777;
    if ((dirMode & 0o077) !== 0) {
      const mode = dirMode.toString(8);
      this.log.warn({ dataDir: this.dataDir, mode }, `the data dir is open to other users (mode ${mode}): chmod 700 ${this.dataDir}`);
    }
  }

  private now(): number {
    return (this.identity.now ?? Date.now)();
  }

  /** Stops last (modules stop in reverse): writes what every room left pending, then closes. */
  async stop(): Promise<void> {
    this.watch.stop();
    try {
      this.lastStop = await this.writer.stop();
      await this.db.close();
    } finally {
      await this.lock.release();
    }
  }

  health(): HealthCheck {
    const writer = this.writer.health();
    if (this.watch.problem !== undefined) return { ...writer, ok: false, critical: true, error: this.watch.problem };
    const check: HealthCheck = { ...writer, ...(this.watch.freeBytes === undefined ? {} : { freeBytes: this.watch.freeBytes }) };
    if (writer.error !== undefined && isDiskFull({ message: writer.error })) {
      return { ...check, diskFull: true, error: `${diskFullMessage(this.dataDir, this.disk, this.watch.freeBytes)} (${writer.error})` };
    }
    return check;
  }
}
