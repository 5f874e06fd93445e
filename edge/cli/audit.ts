/**
 * `audit …`: check and export the audit trail; and the entries the store-IT commands (`device …`, `token …`) write
 * for what they change, as 'cli:<os user>'. They work on the gateway's database also while it runs: appending takes
 * SQLite's write lock and links to whatever the gateway committed last, so both keep one chain.
 */
import { createWriteStream } from 'node:fs';
import { resolve } from 'node:path';
import { once } from 'node:events';
import { userInfo } from 'node:os';
import type { JsonObject } from '../audit/audit-entry.js';
import { AuditStore } from '../audit/audit-store.js';
import type { TransactionStep } from '../storage/database.js';
import { withGatewayDatabase, type DatabaseCommandOptions } from './gateway-database.js';
import { EXIT, type CliIo, type ExitCode } from './io.js';
import { countOf } from '../core/count-words.js';

/**
 * Who runs the command: `cli:<os user>`. Under sudo the person who typed it (SUDO_USER), not root — the trail is
 * about people. Not proof of identity (whoever can write the database file can write anything), a record of intent.
 */
export function cliActor(io: Pick<CliIo, 'env'>): string {
  let user: string | undefined;
  try {
    user = userInfo().username;
  } catch {
    // a uid without a passwd entry (some containers)
    user = io.env.USER ?? io.env.LOGNAME;
  }
  if (user === 'root' && io.env.SUDO_USER) user = io.env.SUDO_USER;
  return `cli:${user ?? `uid-${process.getuid?.() ?? 'unknown'}`}`;
}

/** The entry of a change a store-IT command makes, as a step of the change's own transaction: both commit, or neither. */
export function cliAuditStep(io: CliIo, action: string, subject: string, details: JsonObject = {}): TransactionStep {
  return (tx) => AuditStore.appendIn(tx, [{ at: Date.now(), actor: cliActor(io), action, subject, details }]);
}

/** Recomputes the chain: ok → count and last hash, exit 0; else the first broken entry and what differs, exit 1. */
export function verifyAudit(options: DatabaseCommandOptions, io: CliIo): Promise<ExitCode> {
  return withGatewayDatabase(options, io, async (session) => {
    const result = await new AuditStore(session.db).verify();
    if (result.ok) {
      io.stdout.write(
        result.head
          ? `ok: ${countOf(result.count, 'entry', 'entries')}, last seq ${result.head.seq}, last hash ${result.head.hash}\n`
          : 'ok: 0 entries (the audit trail is empty)\n',
      );
      return EXIT.ok;
    }
    const { broken } = result;
    io.stdout.write(`BROKEN at seq ${broken.seq} (${broken.problem}): ${broken.message}\n`);
    const before = `${countOf(result.checked, 'entry', 'entries')} before it ${result.checked === 1 ? 'holds' : 'hold'}`;
    io.stderr.write(`${before}; entry ${broken.seq} does not follow from them (someone changed the database file)\n`);
    return EXIT.failed;
  });
}

/** Writes every entry as a JSON line (seq order) to `--out` or stdout, as stored: anyone can recompute the chain. */
export function exportAudit(options: DatabaseCommandOptions & { out?: string }, io: CliIo): Promise<ExitCode> {
  return withGatewayDatabase(options, io, async (session) => {
    const store = new AuditStore(session.db);
    let count = 0;
    if (options.out === undefined) {
      for await (const entry of store.entries()) {
        io.stdout.write(`${JSON.stringify(entry)}\n`);
        count++;
      }
    } else {
      const path = resolve(io.cwd, options.out);
      const file = createWriteStream(path, { flags: 'w' });
      try {
        await once(file, 'open');
      } catch (error) {
        io.stderr.write(`cannot write ${path}: ${(error as Error).message}\n`);
        return EXIT.failed;
      }
      for await (const entry of store.entries()) {
        if (!file.write(`${JSON.stringify(entry)}\n`)) await once(file, 'drain');
        count++;
      }
      file.end();
      await once(file, 'finish');
      io.stderr.write(`${countOf(count, 'entry', 'entries')} written to ${path}\n`);
    }
    return EXIT.ok;
  });
}
