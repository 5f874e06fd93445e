import { createHash, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type { GatewayModule, HealthCheck } from '../core/module.js';
import { PeriodicSync } from '../core/periodic-sync.js';
import type { SqliteDatabase } from '../storage/database.js';
import { accessGuard, bearerToken, type AccessGuard, type RouteAccess, type RouteHook } from '../http/auth.js';
import type { Role } from '../http/roles.js';
import { AuthFailureLimiter } from './auth-failure-limiter.js';
import { accessRoutes } from './routes.js';
import { StreamTickets } from './stream-tickets.js';
import { TokenRegistry } from './token-registry.js';
import { TokenNotFoundError, TokenStore } from './token-store.js';

declare module '../core/module.js' {
  interface GatewayServices {
    access: AccessModule;
  }
}

const DEFAULT_STORE_SYNC_MS = 500;

export type AccessModuleDeps = {
  db: SqliteDatabase;
  /** `http.apiToken`: an admin token from the config or env, for automation and the demo */
  configToken: string | null;
  maxAuthFailuresPerMinute: number;
  now: () => number;
  log: Logger;
  onDenied: (outcome: 'missing' | 'invalid' | 'forbidden' | 'rate-limited') => void;
  /** how often tokens added or revoked by the CLI are picked up */
  storeSyncMs?: number;
  /**
   * A named token made as the module starts, before it counts the tokens (one of that name is revoked first): the
   * demo's sign-in link. Made after the start, it came after a false "no API tokens" warning.
   */
  tokenAtStart?: { name: string; role: Role; digest: string };
};

/** Told which tokens were revoked (their digests, `Principal.tokenId`), within a second of `token revoke`. */
export type TokenRevocationListener = (tokenIds: ReadonlySet<string>) => void;

/** API access: named tokens with roles (made by the CLI), the route guard, stream tickets, failed-auth limits. */
export class AccessModule implements GatewayModule {
  readonly name = 'access';
  readonly store: TokenStore;
  readonly tokens: TokenRegistry;
  readonly tickets: StreamTickets;
  readonly guard: AccessGuard;
  private readonly sync: PeriodicSync;
  /** one per live-stream route set (one per HTTP app); each removes itself when its app closes */
  private readonly revocationListeners = new Set<TokenRevocationListener>();

  constructor(private readonly deps: AccessModuleDeps) {
    this.store = new TokenStore(deps.db);
    this.tokens = new TokenRegistry({
      store: this.store,
      configToken: deps.configToken,
      log: deps.log,
      onRevoked: (tokenIds) => this.tokensRevoked(tokenIds),
    });
    this.tickets = new StreamTickets({ ttlMs: 30_000, maxOutstanding: 1_000 }, deps.now);
    this.guard = accessGuard({
      verify: (token) => this.tokens.verify(token),
      redeemStreamTicket: (ticket) => this.tickets.redeem(ticket),
      failures: new AuthFailureLimiter(deps.maxAuthFailuresPerMinute),
      onDenied: deps.onDenied,
    });
    this.sync = new PeriodicSync({
      everyMs: deps.storeSyncMs ?? DEFAULT_STORE_SYNC_MS,
      sync: () => this.tokens.syncWithStore(),
      log: deps.log,
      what: 'API tokens',
    });
  }

  async start(): Promise<void> {
    if (this.deps.tokenAtStart) await this.replaceToken(this.deps.tokenAtStart);
    await this.tokens.load();
    if (this.tokens.size === 0)
      this.deps.log.warn(
        'no API tokens: every route but /api/health answers 401 (create one with `smartstore-edge token add <name> --role <role>`)',
      );
    this.sync.start();
  }

  async stop(): Promise<void> {
    await this.sync.stop();
  }

  health(): HealthCheck {
    const error = this.sync.lastError;
    return { ok: error === undefined, tokens: this.tokens.size, ...(error ? { error } : {}) };
  }

  /** `/metrics`: the scrape-only `http.metricsToken` (compared in constant time) or any API token. */
  scrapeGuard(metricsToken: string | null): RouteHook {
    const viewer = this.guard('viewer');
    const expected = metricsToken ? createHash('sha256').update(metricsToken).digest() : undefined;
    const hook: RouteHook = async (request, reply) => {
      const presented = bearerToken(request.headers.authorization);
      if (expected && presented && timingSafeEqual(createHash('sha256').update(presented).digest(), expected)) return;
      return viewer(request, reply);
    };
    return Object.assign(hook, { access: { role: 'viewer', ...(expected ? { metricsToken: true } : {}) } satisfies RouteAccess });
  }

  /** Calls `listener` with the tokens revoked from now on; returns the function that stops it. */
  onTokensRevoked(listener: TokenRevocationListener): () => void {
    this.revocationListeners.add(listener);
    return () => void this.revocationListeners.delete(listener);
  }

  private async replaceToken(token: { name: string; role: Role; digest: string }): Promise<void> {
    const now = this.deps.now();
    await this.store.revoke(token.name, now).catch((error: unknown) => {
      if (!(error instanceof TokenNotFoundError)) throw error;
    });
    await this.store.add(token, now);
  }

  private tokensRevoked(tokenIds: ReadonlySet<string>): void {
    this.tickets.voidTokens(tokenIds);
    for (const listener of this.revocationListeners) listener(tokenIds);
  }

  routes() {
    return accessRoutes({ guard: this.guard, tickets: this.tickets, store: this.store });
  }
}
