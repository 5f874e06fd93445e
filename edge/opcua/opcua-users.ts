/**
 * The people and tools allowed to log in to the OPC UA server: user names from the config, each with a scrypt hash
 * of its password or the name of an environment variable that holds the password. Plain passwords from the
 * environment are hashed at start and not kept.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { OpcuaUserConfig } from './opcua-server-config.js';

const KEY_BYTES = 32;

function scryptAsync(password: string, salt: Buffer, n: number): Promise<Buffer> {
  // scrypt needs 128·N·r bytes; leave headroom above Node's 32 MiB default for large N
  return new Promise((resolve, reject) =>
    scrypt(password, salt, KEY_BYTES, { N: n, r: 8, p: 1, maxmem: 256 * n * 8 + 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

/** `scrypt$<N>$<salt>$<hash>` (base64): what `passwordHash` in the config holds. */
export async function hashOpcuaPassword(password: string, n = 16384): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, n);
  return `scrypt$${n}$${salt.toString('base64')}$${key.toString('base64')}`;
}

type StoredHash = { n: number; salt: Buffer; key: Buffer };

export class OpcuaUserConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`opcua.server.users: ${issues.join('; ')}`);
    this.name = 'OpcuaUserConfigError';
  }
}

function parseHash(text: string): StoredHash | undefined {
  const [scheme, n, salt, key] = text.split('$');
  if (scheme !== 'scrypt' || !n || !salt || !key) return undefined;
  const cost = Number(n);
  // a power of two of sane size: anything else is a typo that would make every login fail or hang
  if (!Number.isInteger(cost) || cost < 1024 || cost > 1_048_576 || (cost & (cost - 1)) !== 0) return undefined;
  return { n: cost, salt: Buffer.from(salt, 'base64'), key: Buffer.from(key, 'base64') };
}

/**
 * Checks user names and passwords. Every check costs one scrypt, also for an unknown user (against a dummy hash),
 * so the answer time does not tell which user names exist.
 */
export class OpcuaUserDirectory {
  private constructor(
    private readonly users: ReadonlyMap<string, StoredHash>,
    private readonly dummy: StoredHash,
  ) {}

  /**
   * Builds the directory from the config; a user without a usable secret (no hash, a bad hash, an unset variable)
   * is an error naming every such user — better refuse to start than run with a login nobody can use.
   */
  static async fromConfig(users: readonly OpcuaUserConfig[], env: NodeJS.ProcessEnv, envHashCost = 16384): Promise<OpcuaUserDirectory> {
    const issues: string[] = [];
    const byName = new Map<string, StoredHash>();
    for (const user of users) {
      if (byName.has(user.username)) {
        issues.push(`user ${user.username} is listed twice`);
        continue;
      }
      let stored: StoredHash | undefined;
      if (user.passwordHash !== undefined) {
        stored = parseHash(user.passwordHash);
        if (!stored) issues.push(`user ${user.username}: passwordHash is not scrypt$N$salt$hash`);
      } else if (user.passwordEnv !== undefined) {
        const password = env[user.passwordEnv];
        if (!password) issues.push(`user ${user.username}: environment variable ${user.passwordEnv} is not set`);
        else stored = parseHash(await hashOpcuaPassword(password, envHashCost));
      } else {
        issues.push(`user ${user.username} has neither passwordHash nor passwordEnv`);
      }
      if (stored) byName.set(user.username, stored);
    }
    if (issues.length > 0) throw new OpcuaUserConfigError(issues);
    // as costly as a real user's check
    const dummyCost = [...byName.values()][0]?.n ?? 1024;
    const dummy = parseHash(await hashOpcuaPassword(randomBytes(16).toString('hex'), dummyCost)) as StoredHash;
    return new OpcuaUserDirectory(byName, dummy);
  }

  get size(): number {
    return this.users.size;
  }

  async verify(username: string, password: string): Promise<boolean> {
    const stored = this.users.get(username);
    const against = stored ?? this.dummy;
    const key = await scryptAsync(password, against.salt, against.n);
    return stored !== undefined && key.length === stored.key.length && timingSafeEqual(key, stored.key);
  }
}
