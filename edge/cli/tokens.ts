/**
 * `token …`: named API tokens with roles. A token is printed once, at `add`; only its digest is stored. The running
 * gateway picks up added and revoked tokens within a second.
 */
import { newApiToken, TOKEN_NAME_PATTERN, tokenDigest } from '../access/api-token.js';
import type { Role } from '../http/roles.js';
import { TokenNameTakenError, TokenNotFoundError, TokenStore } from '../access/token-store.js';
import { afterChange, withGatewayDatabase, type DatabaseCommandOptions } from './gateway-database.js';
import { EXIT, type CliIo, type ExitCode } from './io.js';
import { cliAuditStep } from './audit.js';

/** Prints the token once: a JSON line with its name and role, or with `raw` the token alone (for `> maria.token`). */
export function addToken(name: string, options: DatabaseCommandOptions & { role: Role; raw?: boolean }, io: CliIo): Promise<ExitCode> {
  if (!TOKEN_NAME_PATTERN.test(name)) {
    io.stderr.write(
      `token name "${name.slice(0, 80)}": 1–64 letters, digits, spaces and . _ @ -, starting with a letter or digit ` +
        '(it is shown in alerts and the audit trail)\n',
    );
    return Promise.resolve(EXIT.failed);
  }
  return withGatewayDatabase(options, io, async (session) => {
    const token = newApiToken();
    try {
      await new TokenStore(session.db).add(
        { name, role: options.role, digest: tokenDigest(token) },
        Date.now(),
        cliAuditStep(io, 'token.added', name, { role: options.role }),
      );
    } catch (error) {
      if (!(error instanceof TokenNameTakenError)) throw error;
      io.stderr.write(`${error.message}\n`);
      return EXIT.failed;
    }
    if (options.raw) {
      io.stdout.write(`${token}\n`);
      io.stderr.write(`token for ${name} (${options.role}) shown this once; the gateway keeps only its digest\n`);
    } else {
      io.stdout.write(`${JSON.stringify({ name, role: options.role, token })}\n`);
      io.stderr.write('the token is shown this once; the gateway keeps only its digest\n');
    }
    afterChange(io, session, 'accepts it');
    return EXIT.ok;
  });
}

export function listTokens(options: DatabaseCommandOptions, io: CliIo): Promise<ExitCode> {
  return withGatewayDatabase(options, io, async (session) => {
    for (const token of await new TokenStore(session.db).active())
      io.stdout.write(`${token.name}\t${token.role}\t${new Date(token.createdAt).toISOString()}\n`);
    return EXIT.ok;
  });
}

export function revokeToken(name: string, options: DatabaseCommandOptions, io: CliIo): Promise<ExitCode> {
  return withGatewayDatabase(options, io, async (session) => {
    try {
      await new TokenStore(session.db).revoke(name, Date.now(), cliAuditStep(io, 'token.revoked', name));
    } catch (error) {
      if (!(error instanceof TokenNotFoundError)) throw error;
      io.stderr.write(`${error.message}\n`);
      return EXIT.failed;
    }
    io.stdout.write(`revoked ${name}\n`);
    afterChange(io, session, 'refuses it');
    return EXIT.ok;
  });
}
