import type { CertificateStore } from './certificate-store.js';

/**
 * Revoked certificate serials, in memory for the broker's connect check; `syncWithStore()` (polled) picks up what the
 * CLI revoked and reports the newly revoked serials so live sessions using them can be closed.
 */
export class RevocationList {
  private revoked = new Set<string>();
  private storeVersion = -1;
  private syncing: Promise<string[]> | undefined;

  constructor(private readonly store: CertificateStore) {}

  async load(): Promise<void> {
    this.storeVersion = await this.store.dataVersion();
    this.revoked = new Set(await this.store.revokedSerials());
  }

  isRevoked(serial: string): boolean {
    return this.revoked.has(serial.toLowerCase());
  }

  syncWithStore(): Promise<string[]> {
    this.syncing ??= (async () => {
      try {
        const version = await this.store.dataVersion();
        if (version === this.storeVersion) return [];
        this.storeVersion = version;
        const next = new Set(await this.store.revokedSerials());
        const added = [...next].filter((serial) => !this.revoked.has(serial));
        this.revoked = next;
        return added;
      } finally {
        this.syncing = undefined;
      }
    })();
    return this.syncing;
  }
}
