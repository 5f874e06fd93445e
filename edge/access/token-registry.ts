import type { Logger } from 'pino';
import { tokenDigest } from './api-token.js';
import type { Principal } from '../http/roles.js';
import type { TokenStore } from './token-store.js';

/** Tokens are few (people and systems of one store); a table beyond this is refused at load, not held in memory. */
const MAX_TOKENS = 10_000;

export type TokenRegistryDeps = {
  store: TokenStore;
  /** `http.apiToken` from the config (env SMARTSTORE_API_TOKEN): an admin token for automation and the demo */
  configToken: string | null;
  log: Logger;
  /** tokens that were active and are not any more (revoked, by the CLI): their streams and tickets end with them */
  onRevoked?: (tokenIds: ReadonlySet<string>) => void;
};

/**
 * The active API tokens, in memory by digest so a request is checked without touching SQLite. Tokens are added and
 * revoked by the CLI in another process; `syncWithStore()` (polled by AccessModule) picks that up with one
 * `PRAGMA data_version` when nothing changed.
 */
export class TokenRegistry {
  private byDigest = new Map<string, Principal>();
  private storeVersion = -1;
  private syncing: Promise<void> | undefined;

  constructor(private readonly deps: TokenRegistryDeps) {}

  async load(): Promise<void> {
    this.storeVersion = await this.deps.store.dataVersion();
    await this.reload();
  }

  /** The principal a bearer token stands for, or undefined. Constant work per call; the digest hides the token's length. */
  verify(token: string): Principal | undefined {
    return this.byDigest.get(tokenDigest(token));
  }

  get size(): number {
    return this.byDigest.size;
  }

  syncWithStore(): Promise<void> {
    this.syncing ??= (async () => {
      try {
        const version = await this.deps.store.dataVersion();
        if (version === this.storeVersion) return;
        this.storeVersion = version;
        await this.reload();
      } finally {
        this.syncing = undefined;
      }
    })();
    return this.syncing;
  }

  private async reload(): Promise<void> {
    const stored = await this.deps.store.active();
    if (stored.length > MAX_TOKENS)
      throw new Error(`api_tokens holds ${stored.length} active tokens, more than the ${MAX_TOKENS} the gateway keeps in memory`);
    const next = new Map<string, Principal>();
    for (const token of stored) next.set(token.digest, { name: token.name, role: token.role, tokenId: token.digest });
    if (this.deps.configToken) {
      const digest = tokenDigest(this.deps.configToken);
      next.set(digest, { name: 'api-token (config)', role: 'admin', tokenId: digest });
    }
    const revoked = new Set([...this.byDigest.keys()].filter((digest) => !next.has(digest)));
    const before = this.byDigest.size;
    this.byDigest = next;
    if (before !== next.size || revoked.size > 0) this.deps.log.info({ tokens: next.size, revoked: revoked.size }, 'API tokens loaded');
    if (revoked.size > 0) this.deps.onRevoked?.(revoked);
  }
}
