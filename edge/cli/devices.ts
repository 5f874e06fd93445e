/**
 * `device …`: store IT's device commands. They work on the gateway's SQLite file, also while the gateway runs (it
 * notices within a second and closes connections of disabled, removed and re-keyed devices).
 */
import { existsSync } from 'node:fs';
import { InvalidDeviceIdError, unmappedShelfWarning, DeviceRegistry } from '../devices/device-registry.js';
import { DeviceExistsError, DeviceStore } from '../devices/device-store.js';
import type { DeviceKind } from '../devices/topics.js';
import { PlanogramIndex } from '../planogram/planogram.js';
import { PlanogramStore } from '../planogram/planogram-store.js';
import { DataDirLock } from '../storage/data-dir-lock.js';
import { SqliteDatabase } from '../storage/database.js';
import { migrate } from '../storage/migrate.js';
import { resolveConfigOrReport, type ResolvedConfig } from './config.js';
import { EXIT, type CliIo, type ExitCode } from './io.js';

export type DeviceCommandOptions = { config?: string };

type Session = { registry: DeviceRegistry; store: DeviceStore; db: SqliteDatabase; resolved: ResolvedConfig; gatewayPid: number | undefined };

/** What a device command says when the database is not where the config points: never a fresh one, silently. */
export function missingDatabaseMessage(databaseFile: string): string {
  return (
    `no gateway database at ${databaseFile}: this is not the data dir of a gateway that has run. ` +
    `Pass the gateway's config (--config FILE or SMARTSTORE_CONFIG), or start the gateway once with this config; ` +
    `\`device add --init\` creates the database here deliberately.\n`
  );
}

async function withDevices(options: DeviceCommandOptions & { init?: boolean }, io: CliIo, work: (session: Session) => Promise<ExitCode>): Promise<ExitCode> {
  const resolved = await resolveConfigOrReport(options.config, io);
  if (typeof resolved === 'number') return resolved;
  if (!options.init && !existsSync(resolved.databaseFile)) {
    io.stderr.write(missingDatabaseMessage(resolved.databaseFile));
    return EXIT.failed;
  }
  const db = new SqliteDatabase(resolved.databaseFile);
  await db.open();
  try {
    await migrate(db);
    const store = new DeviceStore(db);
    const registry = new DeviceRegistry(store, { scryptCost: resolved.config.security.scryptCost, now: Date.now });
    await registry.start();
    return await work({ registry, store, db, resolved, gatewayPid: await DataDirLock.runningGateway(resolved.config.dataDir) });
  } finally {
    await db.close();
  }
}

function noSuchDevice(io: CliIo, session: Session, id: string): ExitCode {
  io.stderr.write(`no device ${id} in ${session.resolved.databaseFile}\n`);
  return EXIT.failed;
}

/** Tells whether the running gateway will act on the change, so nobody waits for something that cannot happen. */
function afterChange(io: CliIo, session: Session, what: string): void {
  if (session.gatewayPid !== undefined) io.stderr.write(`the running gateway (pid ${session.gatewayPid}) ${what} within a second\n`);
}

export function addDevice(id: string, options: DeviceCommandOptions & { kind: DeviceKind; init?: boolean }, io: CliIo): Promise<ExitCode> {
  return withDevices(options, io, async (session) => {
    let secret;
    try {
      secret = await session.registry.provision(id, options.kind);
    } catch (error) {
      if (!(error instanceof DeviceExistsError || error instanceof InvalidDeviceIdError)) throw error;
      io.stderr.write(`${error.message}\n`);
      return EXIT.failed;
    }
    const shelves = new Set(new PlanogramIndex(await new PlanogramStore(session.db).load()).shelfIds());
    const warning = unmappedShelfWarning(id, options.kind, shelves);
    if (warning) io.stderr.write(`warning: ${warning}\n`);
    io.stdout.write(`${JSON.stringify({ id, kind: options.kind, secret })}\n`);
    afterChange(io, session, 'accepts it');
    return EXIT.ok;
  });
}

export function listDevices(options: DeviceCommandOptions, io: CliIo): Promise<ExitCode> {
  return withDevices(options, io, async (session) => {
    // `connected` is what the running gateway last wrote; after it stopped (or was killed) it means nothing
    const connection = (connected: boolean) => (session.gatewayPid === undefined ? 'gateway not running' : connected ? 'connected' : 'disconnected');
    for (const device of await session.store.listStatus()) {
      const lastSeen = device.lastSeenAt === null ? 'never' : new Date(device.lastSeenAt).toISOString();
      io.stdout.write(`${device.id}\t${device.kind}\t${device.disabled ? 'disabled' : 'enabled'}\t${connection(device.connected)}\t${lastSeen}\n`);
    }
    return EXIT.ok;
  });
}

export function disableDevice(id: string, options: DeviceCommandOptions, io: CliIo): Promise<ExitCode> {
  return withDevices(options, io, async (session) => {
    if (!(await session.registry.disable(id))) return noSuchDevice(io, session, id);
    io.stdout.write(`${id} disabled\n`);
    afterChange(io, session, 'closes its connection and refuses it');
    return EXIT.ok;
  });
}

export function enableDevice(id: string, options: DeviceCommandOptions, io: CliIo): Promise<ExitCode> {
  return withDevices(options, io, async (session) => {
    if (!(await session.registry.enable(id))) return noSuchDevice(io, session, id);
    io.stdout.write(`${id} enabled\n`);
    afterChange(io, session, 'accepts it again');
    return EXIT.ok;
  });
}

export function rotateDeviceSecret(id: string, options: DeviceCommandOptions, io: CliIo): Promise<ExitCode> {
  return withDevices(options, io, async (session) => {
    const rotated = await session.registry.rotateSecret(id);
    if (!rotated) return noSuchDevice(io, session, id);
    io.stdout.write(`${JSON.stringify({ id, kind: rotated.device.kind, secret: rotated.secret })}\n`);
    afterChange(io, session, 'refuses the old secret and closes its connection');
    return EXIT.ok;
  });
}

export function removeDevice(id: string, options: DeviceCommandOptions, io: CliIo): Promise<ExitCode> {
  return withDevices(options, io, async (session) => {
    if (!(await session.registry.remove(id))) return noSuchDevice(io, session, id);
    io.stdout.write(`${id} removed\n`);
    afterChange(io, session, 'closes its connection and refuses it');
    return EXIT.ok;
  });
}
