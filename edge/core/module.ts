import type { Logger } from 'pino';

/**
 * One part of the gateway with a lifecycle — a feature room's `module.ts`, or shared plumbing such as storage and
 * HTTP. Constructors do no I/O; `start()` and `stop()` do. A module that can tell whether it works reports `health()`.
 */
export type GatewayModule = {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  health?(): HealthCheck;
};

/** A module's answer to "do you work?": `ok` and whatever store IT needs to see why not. */
export type HealthCheck = { ok: boolean; [detail: string]: unknown };

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
 * Starts its modules in order and stops them in reverse. If a module fails to start, the ones already started are
 * stopped again, so a failed start leaves no port or file open.
 */
export class Gateway {
  private started: GatewayModule[] = [];

  constructor(
    readonly modules: readonly GatewayModule[],
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    for (const module of this.modules) {
      const began = performance.now();
      try {
        await module.start();
      } catch (error) {
        await this.stop().catch(() => undefined);
        throw new GatewayStartError(module.name, { cause: error });
      }
      this.started.push(module);
      // how long each part took: a slow start is found from the debug log, not a profiler
      this.log.debug({ part: module.name, ms: Math.round(performance.now() - began) }, 'started');
    }
  }

  /** Stops in reverse order; keeps going past a module that fails to stop, and reports the first error. */
  async stop(): Promise<void> {
    let firstError: unknown;
    for (const module of this.started.reverse()) {
      try {
        await module.stop();
        this.log.debug({ part: module.name }, 'stopped');
      } catch (error) {
        this.log.error({ err: error, part: module.name }, 'failed to stop');
        firstError ??= error;
      }
    }
    this.started = [];
    if (firstError) throw firstError;
  }

  /** Every module's health check, by module name. */
  health(): Record<string, HealthCheck> {
    const checks: Record<string, HealthCheck> = {};
    for (const module of this.modules) if (module.health) checks[module.name] = module.health();
    return checks;
  }
}
