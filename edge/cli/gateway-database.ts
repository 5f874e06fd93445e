/**
 * The gateway's SQLite file for the store-IT commands (`device …`, `token …`): they work on it also while the gateway
 * runs, which picks up their changes within a second.
 */
import { existsSync } from 'node:fs';
import { DataDirLock } from '../storage/data-dir-lock.js';
import { SqliteDatabase } from '../storage/database.js';
import { migrate } from '../storage/migrate.js';
import { dataDirFacts, judgeDataDir, StoreIdentityError } from '../storage/store-identity.js';
import { resolveConfigOrReport, type ResolvedConfig } from './config.js';
import { EXIT, type CliIo, type ExitCode } from './io.js';

export type DatabaseCommandOptions = { config?: string };

export type DatabaseSession = { db: SqliteDatabase; resolved: ResolvedConfig; gatewayPid: number | undefined };

/** What a command says when the database is not where the config points: never a fresh one, silently. */
export function missingDatabaseMessage(databaseFile: string): string {
  return (
    `no gateway database at ${databaseFile}: this is not the data dir of a gateway that has run. ` +
    `Pass the gateway's config (--config FILE or SMARTSTORE_CONFIG), or start the gateway once with this config; ` +
    `\`device add --init\` creates the database here deliberately.\n`
  );
}

/** Opens (and migrates) the database the config points at, runs `work`, closes it. `init` allows creating it. */
export async function withGatewayDatabase(
  options: DatabaseCommandOptions & { init?: boolean },
  io: CliIo,
  work: (session: DatabaseSession) => Promise<ExitCode>,
): Promise<ExitCode> {
  const resolved = await resolveConfigOrReport(options.config, io);
  if (typeof resolved === 'number') return resolved;
  if (!options.init && !existsSync(resolved.databaseFile)) {
    io.stderr.write(missingDatabaseMessage(resolved.databaseFile));
    return EXIT.failed;
  }
  // an emptied database of a store that has run is not made into a new one here either (the gateway refuses it too)
  const facts = await dataDirFacts(resolved.config.dataDir, resolved.databaseFile, []);
  const judged = judgeDataDir(facts);
  if (judged.verdict === 'refuse') {
    io.stderr.write(
      `${new StoreIdentityError(resolved.databaseFile, judged.problem, resolved.config.dataDir, judged.evidence.join(', ')).message}\n`,
    );
    return EXIT.failed;
  }
  const db = new SqliteDatabase(resolved.databaseFile);
  await db.open();
  try {
    await migrate(db);
    return await work({ db, resolved, gatewayPid: await DataDirLock.runningGateway(resolved.config.dataDir) });
  } finally {
    await db.close();
  }
}

/** Tells whether the running gateway will act on the change, so nobody waits for something that cannot happen. */
export function afterChange(io: CliIo, session: DatabaseSession, what: string): void {
  if (session.gatewayPid !== undefined) io.stderr.write(`the running gateway (pid ${session.gatewayPid}) ${what} within a second\n`);
}
