/**
 * `device …`: store IT's device commands. They work on the gateway's SQLite file, also while the gateway runs (it
 * notices within a second and closes connections of disabled, removed and re-keyed devices).
 */
import { InvalidDeviceIdError, unmappedShelfWarning, DeviceRegistry } from '../device-registry/device-registry.js';
import { DeviceExistsError, DeviceStore } from '../device-registry/device-store.js';
import type { DeviceKind } from '../device-registry/topics.js';
import { PlanogramIndex } from '../planogram/planogram.js';
import { PlanogramStore } from '../planogram/planogram-store.js';
import { afterChange, withGatewayDatabase, type DatabaseCommandOptions, type DatabaseSession } from './gateway-database.js';
import { EXIT, type CliIo, type ExitCode } from './io.js';
import { cliAuditStep } from './audit.js';

export type DeviceCommandOptions = DatabaseCommandOptions;

type Session = DatabaseSession & { registry: DeviceRegistry; store: DeviceStore };

function withDevices(
  options: DeviceCommandOptions & { init?: boolean },
  io: CliIo,
  work: (session: Session) => Promise<ExitCode>,
): Promise<ExitCode> {
  return withGatewayDatabase(options, io, async (session) => {
    const store = new DeviceStore(session.db);
    const registry = new DeviceRegistry(store, { scryptCost: session.resolved.config.security.scryptCost, now: Date.now });
    await registry.start();
    return work({ ...session, registry, store });
  });
}

function noSuchDevice(io: CliIo, session: Session, id: string): ExitCode {
  io.stderr.write(`no device ${id} in ${session.resolved.databaseFile}\n`);
  return EXIT.failed;
}

export function addDevice(id: string, options: DeviceCommandOptions & { kind: DeviceKind; init?: boolean }, io: CliIo): Promise<ExitCode> {
  return withDevices(options, io, async (session) => {
    let secret;
    try {
      secret = await session.registry.provision(id, options.kind, undefined, cliAuditStep(io, 'device.added', id, { kind: options.kind }));
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
    const connection = (connected: boolean) =>
      session.gatewayPid === undefined ? 'gateway not running' : connected ? 'connected' : 'disconnected';
    for (const device of await session.store.listStatus()) {
      const lastSeen = device.lastSeenAt === null ? 'never' : new Date(device.lastSeenAt).toISOString();
      io.stdout.write(
        `${device.id}\t${device.kind}\t${device.disabled ? 'disabled' : 'enabled'}\t${connection(device.connected)}\t${lastSeen}\n`,
      );
    }
    return EXIT.ok;
  });
}

export function disableDevice(id: string, options: DeviceCommandOptions, io: CliIo): Promise<ExitCode> {
  return withDevices(options, io, async (session) => {
    if (!(await session.registry.disable(id, cliAuditStep(io, 'device.disabled', id)))) return noSuchDevice(io, session, id);
    io.stdout.write(`${id} disabled\n`);
    afterChange(io, session, 'closes its connection and refuses it');
    return EXIT.ok;
  });
}

export function enableDevice(id: string, options: DeviceCommandOptions, io: CliIo): Promise<ExitCode> {
  return withDevices(options, io, async (session) => {
    if (!(await session.registry.enable(id, cliAuditStep(io, 'device.enabled', id)))) return noSuchDevice(io, session, id);
    io.stdout.write(`${id} enabled\n`);
    afterChange(io, session, 'accepts it again');
    return EXIT.ok;
  });
}

export function rotateDeviceSecret(id: string, options: DeviceCommandOptions, io: CliIo): Promise<ExitCode> {
  return withDevices(options, io, async (session) => {
    const rotated = await session.registry.rotateSecret(id, undefined, cliAuditStep(io, 'device.secret-rotated', id));
    if (!rotated) return noSuchDevice(io, session, id);
    io.stdout.write(`${JSON.stringify({ id, kind: rotated.device.kind, secret: rotated.secret })}\n`);
    afterChange(io, session, 'refuses the old secret and closes its connection');
    return EXIT.ok;
  });
}

export function removeDevice(id: string, options: DeviceCommandOptions, io: CliIo): Promise<ExitCode> {
  return withDevices(options, io, async (session) => {
    if (!(await session.registry.remove(id, cliAuditStep(io, 'device.removed', id)))) return noSuchDevice(io, session, id);
    io.stdout.write(`${id} removed\n`);
    afterChange(io, session, 'closes its connection and refuses it');
    return EXIT.ok;
  });
}
