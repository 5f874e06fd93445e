import type { Logger } from 'pino';
import type { GatewayModule, HealthCheck } from '../core/module.js';
import { PeriodicSync } from '../core/periodic-sync.js';
import type { SqliteDatabase } from '../storage/database.js';
import { CertificateStore } from './certificate-store.js';
import { RevocationList } from './revocation-list.js';

declare module '../core/module.js' {
  interface GatewayServices {
    pki: PkiModule;
  }
}

const DEFAULT_STORE_SYNC_MS = 500;

/**
 * Device certificates of the store CA as the broker sees them: revoked serials in memory, picked up from the CLI's
 * `ca revoke` within a second, and handed to `onRevoked` so the sessions that logged in with them are closed.
 */
export class PkiModule implements GatewayModule {
  readonly name = 'pki';
  readonly revocations: RevocationList;
  private readonly sync: PeriodicSync;

  constructor(
    private readonly deps: { db: SqliteDatabase; log: Logger; onRevoked: (serials: readonly string[]) => void; storeSyncMs?: number },
  ) {
    this.revocations = new RevocationList(new CertificateStore(deps.db));
    this.sync = new PeriodicSync({
      everyMs: deps.storeSyncMs ?? DEFAULT_STORE_SYNC_MS,
      what: 'revoked certificates',
      log: deps.log,
      sync: async () => {
        const revoked = await this.revocations.syncWithStore();
        if (revoked.length === 0) return;
        this.deps.log.info({ serials: revoked }, 'certificates revoked: closing their sessions');
        this.deps.onRevoked(revoked);
      },
    });
  }

  async start(): Promise<void> {
    await this.revocations.load();
    this.sync.start();
  }

  async stop(): Promise<void> {
    await this.sync.stop();
  }

  health(): HealthCheck {
    const error = this.sync.lastError;
    return { ok: error === undefined, ...(error ? { error } : {}) };
  }
}
