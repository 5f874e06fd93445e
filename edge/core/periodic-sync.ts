import type { Logger } from 'pino';

/**
 * Polls `sync` every `everyMs` — one at a time, never overlapping — for what another process (the CLI) committed to
 * the database. A failure is logged once per distinct message (not every tick) and kept for health until a sync works
 * again; `stop()` waits for the one under way, so the database can close after it.
 */
export class PeriodicSync {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private failure: string | undefined;

  constructor(private readonly options: { everyMs: number; sync: () => Promise<void>; log: Logger; what: string }) {}

  start(): void {
    this.timer = setInterval(() => this.tick(), this.options.everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** The last sync's error, while syncs fail. */
  get lastError(): string | undefined {
    return this.failure;
  }

  private tick(): void {
    if (this.running) return;
    this.running = this.options
      .sync()
      .then(
        () => {
          if (this.failure !== undefined) this.options.log.info(`${this.options.what}: in sync with the database again`);
          this.failure = undefined;
        },
        (error: unknown) => {
          const message = (error as Error).message;
          if (message !== this.failure)
            this.options.log.error(
              { err: error },
              `${this.options.what}: could not reload from the database; what was loaded stays in force`,
            );
          this.failure = message;
        },
      )
      .finally(() => (this.running = undefined));
  }
}
