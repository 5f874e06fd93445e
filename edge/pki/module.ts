import type { Logger } from 'pino';
import type { GatewayModule, HealthCheck } from '../core/module.js';
import type { SqliteDatabase } from '../storage/database.js';
import { CertificateStore } from './certificate-store.js';
import { RevocationList } from './revocation-list.js';

const DEFAULT_STORE_SYNC_MS = 500;

/**
 * Device certificates of the store CA as the broker sees them: revoked serials in memory, picked up from the CLI's
 * `ca revoke` within a second, and handed to `onRevoked` so the sessions that logged in with them are closed.
 */
export class PkiModule implements GatewayModule {
  readonly name = 'pki';
  readonly revocations: RevocationList;
  private timer: NodeJS.Timeout | undefined;
  private lastError: string | undefined;

  constructor(
    private readonly deps: { db: SqliteDatabase; log: Logger; onRevoked: (serials: readonly string[]) => void; storeSyncMs?: number },
  ) {
    this.revocations = new RevocationList(new CertificateStore(deps.db));
  }

  async start(): Promise<void> {
    await this.revocations.load();
    this.timer = setInterval(() => {
      this.revocations.syncWithStore().then(
        (revoked) => {
          this.lastError = undefined;
          if (revoked.length === 0) return;
          this.deps.log.info({ serials: revoked }, 'certificates revoked: closing their sessions');
          this.deps.onRevoked(revoked);
        },
        (error: unknown) => {
          const message = (error as Error).message;
          if (message !== this.lastError) this.deps.log.error({ err: error }, 'could not reload revoked certificates; the list loaded stays in force');
          this.lastError = message;
        },
      );
    }, this.deps.storeSyncMs ?? DEFAULT_STORE_SYNC_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.revocations.settled();
  }

  health(): HealthCheck {
    return { ok: this.lastError === undefined, ...(this.lastError ? { error: this.lastError } : {}) };
  }
}
