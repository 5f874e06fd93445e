import type { Logger } from 'pino';
import type { GatewayModule, HealthCheck } from '../core/module.js';

const DAY_MS = 86_400_000;
const DEFAULT_EVERY_MS = 3_600_000;

/** One kind of stored data with a retention limit: deletes what was recorded before `cutoff`, returns how much. */
export type RetentionPurge = { what: string; purgeBefore(cutoff: number): Promise<number> | number };

/**
 * Retention: raw readings and kiosk events are kept `retentionDays` and then deleted, at start and every hour. Each
 * room deletes its own data (`purges`); this module only keeps time.
 */
export class RetentionModule implements GatewayModule {
  readonly name = 'retention';
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastError: string | undefined;
  private lastRunAt: number | undefined;

  constructor(
    private readonly deps: { retentionDays: number; purges: readonly RetentionPurge[]; now: () => number; log: Logger; everyMs?: number },
  ) {}

  async start(): Promise<void> {
    await this.runOnce();
    this.timer = setInterval(() => void this.runOnce(), this.deps.everyMs ?? DEFAULT_EVERY_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  health(): HealthCheck {
    return {
      ok: this.lastError === undefined,
      retentionDays: this.deps.retentionDays,
      lastRunAt: this.lastRunAt ?? null,
      ...(this.lastError ? { error: this.lastError } : {}),
    };
  }

  /** One pass over every purge; a failing one is logged and retried at the next pass, the others still run. */
  runOnce(): Promise<void> {
    this.running ??= (async () => {
      const cutoff = this.deps.now() - this.deps.retentionDays * DAY_MS;
      let failed: string | undefined;
      for (const purge of this.deps.purges) {
        try {
          const removed = await purge.purgeBefore(cutoff);
          if (removed > 0)
            this.deps.log.info(
              { what: purge.what, removed, before: new Date(cutoff).toISOString() },
              `retention: deleted ${removed} ${purge.what}`,
            );
        } catch (error) {
          failed = `${purge.what}: ${(error as Error).message}`;
          this.deps.log.error({ err: error, what: purge.what }, 'retention pass failed; retried at the next one');
        }
      }
      this.lastError = failed;
      this.lastRunAt = this.deps.now();
    })().finally(() => (this.running = undefined));
    return this.running;
  }
}
