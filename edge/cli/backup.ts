/**
 * `backup --out DIR` and `restore DIR`: the whole store in one folder and back. What a store is on disk is known here
 * (the CLI composes the rooms, as main.ts does): every SQLite database in the data dir (gateway.db, the relay outbox,
 * found by content), the store marker, the pseudonym key (wherever it is configured) and the certificate folders
 * (the store CA, the OPC UA server's and client's PKI). A backup works while the gateway runs; a restore takes the
 * data dir lock, so it is refused while a gateway runs and no gateway can start halfway through it.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { GatewayConfig } from '../config/gateway-config.js';
import {
  backupDatabase,
  BackupError,
  BACKUP_FORMAT,
  copyIntoBackup,
  entryFor,
  filesUnder,
  isSqliteFile,
  MANIFEST_FILE,
  putInPlace,
  readManifest,
  targetPath,
  verifyBackup,
  type BackupEntry,
  type BackupManifest,
} from '../storage/backup.js';
import { formatBytes } from '../storage/disk-full.js';
import { DataDirLock, DataDirLockedError, LOCK_FILE } from '../storage/data-dir-lock.js';
import { moveAside, readStoreMarker, STORE_MARKER_FILE, withSidecars } from '../storage/store-identity.js';
import { resolveConfigOrReport } from './config.js';
import type { DatabaseCommandOptions } from './gateway-database.js';
import { missingDatabaseMessage } from './gateway-database.js';
import { EXIT, type CliIo, type ExitCode } from './io.js';
import { countOf } from '../core/count-words.js';

/** Folders of the data dir holding keys and certificates (the store CA: pki/; OPC UA: see opcua-server.ts, device-driver.ts) */
const KEY_DIRS = ['pki', 'opcua-pki', 'opcua-client-pki', 'opcua-pki-users'];

const pseudonymKeyFile = (config: GatewayConfig, cwd: string) =>
  resolve(cwd, config.security.pseudonymKeyFile ?? join(config.dataDir, 'pseudonym.key'));

/** The data dir's SQLite databases (top level, by content): not the lock, not a WAL or journal. */
async function databasesIn(dataDir: string): Promise<string[]> {
  if (!existsSync(dataDir)) return [];
  const names: string[] = [];
  for (const entry of await readdir(dataDir, { withFileTypes: true })) {
    if (!entry.isFile() || entry.name === LOCK_FILE || /-(wal|shm|journal)$/.test(entry.name)) continue;
    if (await isSqliteFile(join(dataDir, entry.name)).catch(() => false)) names.push(entry.name);
  }
  return names.sort();
}

export async function backupStore(options: DatabaseCommandOptions & { out: string }, io: CliIo): Promise<ExitCode> {
  const resolved = await resolveConfigOrReport(options.config, io);
  if (typeof resolved === 'number') return resolved;
  const { config } = resolved;
  if (!existsSync(resolved.databaseFile)) {
    io.stderr.write(missingDatabaseMessage(resolved.databaseFile));
    return EXIT.failed;
  }
  const out = resolve(io.cwd, options.out);
  if (existsSync(out) && (await readdir(out)).length > 0) {
    io.stderr.write(`${out} exists and is not empty: give the backup a new folder\n`);
    return EXIT.failed;
  }
  // the manifest goes last: until it is written the folder is an unfinished backup and restore refuses it
  const started = Date.now();
  try {
    await mkdir(join(out, 'data'), { recursive: true, mode: 0o700 });
    const entries: BackupEntry[] = [];
    for (const name of await databasesIn(config.dataDir)) {
      const file = `data/${name}`;
      await backupDatabase(join(config.dataDir, name), join(out, file));
      entries.push(await entryFor(out, file, { dataDir: name }, 'database', 0o600));
    }
    const plainFiles = [STORE_MARKER_FILE];
    for (const dir of KEY_DIRS) for (const file of await filesUnder(join(config.dataDir, dir))) plainFiles.push(join(dir, file));
    for (const relativePath of plainFiles) {
      const source = join(config.dataDir, relativePath);
      if (!existsSync(source)) continue;
      const file = `data/${relativePath.split('\\').join('/')}`;
      await copyIntoBackup(source, join(out, file));
      entries.push(await entryFor(out, file, { dataDir: relativePath.split('\\').join('/') }, 'file', (await stat(source)).mode));
    }
    const keyFile = pseudonymKeyFile(config, io.cwd);
    if (existsSync(keyFile)) {
      await copyIntoBackup(keyFile, join(out, 'pseudonym.key'));
      entries.push(await entryFor(out, 'pseudonym.key', { pseudonymKey: true }, 'file', 0o600));
    }
    const marker = await readStoreMarker(config.dataDir);
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      createdAt: new Date(started).toISOString(),
      storeId: config.storeId,
      storeUuid: typeof marker === 'object' ? marker.storeUuid : null,
      entries,
    };
    await writeFile(join(out, `${MANIFEST_FILE}.draft`), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
    await rename(join(out, `${MANIFEST_FILE}.draft`), join(out, MANIFEST_FILE));
    const bytes = entries.reduce((sum, entry) => sum + entry.bytes, 0);
    const databases = entries.filter((entry) => entry.kind === 'database').map((entry) => entry.file.replace(/^data\//, ''));
    const keyFiles = entries.length - databases.length;
    io.stdout.write(
      `backup of store ${config.storeId} in ${out}: ${databases.join(', ')} and ${keyFiles} key files, ${formatBytes(bytes)}\n`,
    );
    return EXIT.ok;
  } catch (error) {
    io.stderr.write(`backup failed: ${(error as Error).message} (${out} has no ${MANIFEST_FILE}: restore will refuse it)\n`);
    return EXIT.failed;
  }
}

export async function restoreStore(backupDir: string, options: DatabaseCommandOptions, io: CliIo): Promise<ExitCode> {
  const resolved = await resolveConfigOrReport(options.config, io);
  if (typeof resolved === 'number') return resolved;
  const { config } = resolved;
  const from = resolve(io.cwd, backupDir);
  let manifest: BackupManifest;
  try {
    manifest = await readManifest(from);
  } catch (error) {
    if (!(error instanceof BackupError)) throw error;
    io.stderr.write(`${error.message}\n`);
    return EXIT.failed;
  }
  const problems = await verifyBackup(from, manifest);
  if (problems.length > 0) {
    io.stderr.write(`the backup in ${from} is damaged; nothing was changed:\n${problems.map((problem) => `  - ${problem}\n`).join('')}`);
    return EXIT.failed;
  }
  const lock = new DataDirLock(config.dataDir);
  try {
    await lock.acquire();
  } catch (error) {
    if (!(error instanceof DataDirLockedError)) throw error;
    const pid = error.pid < 0 ? 'unknown' : error.pid;
    io.stderr.write(`refusing to restore while a gateway runs on ${config.dataDir} (pid ${pid}): stop it first; nothing was changed\n`);
    return EXIT.failed;
  }
  try {
    const keyFile = pseudonymKeyFile(config, io.cwd);
    const targets = manifest.entries.map((entry) => targetPath(entry.target, config.dataDir, keyFile));
    // what is there now goes aside as a whole store: its databases with their WAL, marker, keys and certificates
    const current = [
      ...(await databasesIn(config.dataDir)).flatMap((name) => withSidecars(join(config.dataDir, name))),
      ...withSidecars(join(config.dataDir, 'gateway.db')),
      join(config.dataDir, STORE_MARKER_FILE),
      keyFile,
      ...KEY_DIRS.map((dir) => join(config.dataDir, dir)),
      // anything else the backup puts at the top of the data dir (files in the key folders went with their folder)
      ...targets.filter((target) => dirname(target) === config.dataDir),
    ];
    const aside = await moveAside(config.dataDir, [...new Set(current)], new Date());
    for (const [index, entry] of manifest.entries.entries()) await putInPlace(join(from, entry.file), targets[index] as string, entry.mode);
    const store = `${manifest.storeId}${manifest.storeUuid ? ` (${manifest.storeUuid})` : ''}`;
    io.stdout.write(
      `restored store ${store} from the backup of ${manifest.createdAt} into ${config.dataDir}: ` +
        `${countOf(manifest.entries.length, 'file')}${aside ? `; what was there before is in ${aside.dir}` : ''}\n`,
    );
    return EXIT.ok;
  } catch (error) {
    io.stderr.write(`restore failed: ${(error as Error).message}\n`);
    return EXIT.failed;
  } finally {
    await lock.release();
  }
}
