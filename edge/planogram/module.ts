import type { Logger } from 'pino';
import type { GatewayModule } from '../core/module.js';
import type { SqliteDatabase } from '../storage/database.js';
import { parsePlanogram, readPlanogramText } from './planogram-file.js';
import { PlanogramIndex } from './planogram.js';
import { PlanogramStore, planogramFingerprint } from './planogram-store.js';

declare module '../core/module.js' {
  interface GatewayServices {
    planogram: PlanogramModule;
  }
}

/**
 * The store's planogram: loaded from the configured file at start (when it changed since the last start), kept in
 * SQLite, and served to the other rooms as a read-only index.
 */
export class PlanogramModule implements GatewayModule {
  readonly name = 'planogram';
  private readonly store: PlanogramStore;
  private loaded: PlanogramIndex | undefined;

  constructor(
    db: SqliteDatabase,
    private readonly file: string | null,
    private readonly log: Logger,
  ) {
    this.store = new PlanogramStore(db);
  }

  /** The planogram index; there is one once the module has started. */
  get index(): PlanogramIndex {
    if (!this.loaded) throw new Error('planogram is not loaded yet (the planogram module has not started)');
    return this.loaded;
  }

  async start(): Promise<void> {
    if (this.file) {
      // an unchanged file (the usual restart) is neither parsed nor rewritten: a large store's YAML takes a second
      const text = await readPlanogramText(this.file);
      const fingerprint = planogramFingerprint(text);
      if ((await this.store.storedFingerprint()) === fingerprint) {
        this.log.info({ file: this.file }, 'planogram unchanged');
      } else {
        const planogram = parsePlanogram(text, this.file);
        await this.store.replace(planogram, fingerprint);
        this.log.info({ file: this.file, facings: planogram.facings.length, products: planogram.products.length }, 'planogram loaded');
      }
    }
    this.loaded = new PlanogramIndex(await this.store.load());
  }

  async stop(): Promise<void> {}
}
