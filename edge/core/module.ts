import type { Logger } from 'pino';

/** A part of the gateway with a lifecycle: constructors do no I/O, start() and stop() do. */
export type Lifecycle = { name: string; start(): Promise<void>; stop(): Promise<void> };

export class GatewayStartError extends Error {
  constructor(
    readonly component: string,
    options: { cause: unknown },
  ) {
    super(`${component} failed to start: ${(options.cause as Error)?.message ?? String(options.cause)}`, options);
    this.name = 'GatewayStartError';
  }
}

/**
 * Starts its parts in order and stops them in reverse. If a part fails to start, the ones already started are
 * stopped again, so a failed start leaves no port or file open.
 */
export class Gateway {
  private started: Lifecycle[] = [];

  constructor(
    private readonly parts: readonly Lifecycle[],
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    for (const part of this.parts) {
      try {
        await part.start();
      } catch (error) {
        await this.stop();
        throw new GatewayStartError(part.name, { cause: error });
      }
      this.started.push(part);
      this.log.debug({ part: part.name }, 'started');
    }
  }

  /** Stops in reverse order; keeps going past a part that fails to stop, and reports the first error. */
  async stop(): Promise<void> {
    let firstError: unknown;
    for (const part of this.started.reverse()) {
      try {
        await part.stop();
        this.log.debug({ part: part.name }, 'stopped');
      } catch (error) {
        this.log.error({ err: error, part: part.name }, 'failed to stop');
        firstError ??= error;
      }
    }
    this.started = [];
    if (firstError) throw firstError;
  }
}
