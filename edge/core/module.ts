import type { Logger } from 'pino';
import { startOrder, type ModuleNode } from './module-graph.js';

export { DuplicateModuleError, MissingNeedError, ModuleGraphError, NeedCycleError } from './module-graph.js';

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

/** Every module's health check, by module name. */
export type ModuleHealth = { health(): Record<string, HealthCheck> };

/**
 * The services of the gateway by name: what a module can declare it needs. Each room adds what it provides in its
 * `module.ts`, by module augmentation (as a fastify plugin adds its decorators to `FastifyInstance`):
 *
 *     declare module '../core/module.js' {
 *       interface GatewayServices { alerts: AlertsModule }
 *     }
 *
 * so a module is handed its needs typed, and a need nobody declares does not compile. A service is the module itself.
 */
export interface GatewayServices {
  /** the gateway itself (every module's health); it needs nothing started */
  gateway: ModuleHealth;
}

/** The name under which the gateway provides itself. */
const GATEWAY_SERVICE = 'gateway';

/** The services a module only calls later (an event, a timer, a request), each behind a function. */
export type LateServices<S, U extends keyof S> = { readonly [K in U]: () => S[K] };

/** A module as the gateway builds it: its place in the graph and how to make it from what it needs. */
export type ModuleSpec = ModuleNode & {
  readonly build: (needs: Record<string, unknown>, later: Record<string, () => unknown>) => GatewayModule;
};

/** A `defineModule` for a map of services `S` (the gateway's, or a test's own). */
export function moduleDefiner<S>() {
  return function defineModule<K extends keyof S & string, N extends keyof S & string = never, U extends keyof S & string = never>(spec: {
    /** the service it provides: itself, under this name */
    name: K;
    /** started before it (stopped after it), and handed to `build` */
    needs?: readonly N[];
    /** handed to `build` behind functions, called only once every module is built; no order */
    uses?: readonly U[];
    build(needs: Pick<S, N>, later: LateServices<S, U>): S[K] & GatewayModule;
  }): ModuleSpec {
    return {
      name: spec.name,
      needs: spec.needs ?? [],
      uses: spec.uses ?? [],
      build: (needs, later) => spec.build(needs as Pick<S, N>, later as LateServices<S, U>),
    };
  };
}

/** Declares one module of the gateway: `defineModule({ name, needs, uses, build })`. */
export const defineModule = moduleDefiner<GatewayServices>();

export class GatewayStartError extends Error {
  constructor(
    readonly component: string,
    options: { cause: unknown },
  ) {
    super(`${component} failed to start: ${(options.cause as Error)?.message ?? String(options.cause)}`, options);
    this.name = 'GatewayStartError';
  }
}

/** A module's `stop()` did not finish within the gateway's time limit; the others were stopped anyway. */
export class ModuleStopTimeoutError extends Error {
  constructor(
    readonly module: string,
    readonly limitMs: number,
  ) {
    super(`${module} did not stop within ${limitMs} ms`);
    this.name = 'ModuleStopTimeoutError';
  }
}

/** A service asked for before it was built (a module calling what it `uses` while building), or not in this gateway. */
export class ServiceNotBuiltError extends Error {
  constructor(
    readonly module: string,
    readonly service: string,
  ) {
    super(`${module} asked for "${service}", which is not built (yet): a used service is for events, timers and requests, not building`);
    this.name = 'ServiceNotBuiltError';
  }
}

/** As Node-RED gives each node's close: long enough for a flush, short enough that a hung part cannot hold the process. */
export const DEFAULT_STOP_TIMEOUT_MS = 15_000;

export type GatewayBuildOptions = {
  log: Logger;
  /** how long one module's `stop()` may take before the gateway goes on without it */
  stopTimeoutMs?: number;
};

/**
 * Builds its modules in the order of their needs (a missing or circular need throws here, before anything starts),
 * starts them in that order and stops them in reverse. If a module fails to start, the ones already started are
 * stopped again, so a failed start leaves no port or file open. A module's stop has a time limit.
 */
export class Gateway<S = GatewayServices> implements ModuleHealth {
  /** module names in start order, computed from their needs */
  readonly order: readonly string[];
  /** the modules in start order */
  readonly modules: readonly GatewayModule[];
  private readonly services = new Map<string, unknown>();
  private readonly log: Logger;
  private readonly stopTimeoutMs: number;
  private started: GatewayModule[] = [];

  constructor(specs: readonly ModuleSpec[], options: GatewayBuildOptions) {
    this.log = options.log;
    this.stopTimeoutMs = options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    this.order = startOrder(specs, [GATEWAY_SERVICE]);
    this.services.set(GATEWAY_SERVICE, this);
    const specOf = new Map(specs.map((spec) => [spec.name, spec]));
    const modules: GatewayModule[] = [];
    for (const name of this.order) {
      const spec = specOf.get(name) as ModuleSpec;
      const needs = Object.fromEntries(spec.needs.map((need) => [need, this.services.get(need)]));
      const later = Object.fromEntries(spec.uses.map((use) => [use, () => this.builtService(`module "${spec.name}"`, use)]));
      const module = spec.build(needs, later);
      this.services.set(name, module);
      modules.push(module);
    }
    this.modules = modules;
  }

  /** A module by the name it provides itself under (the CLI, the demo and tests reach into modules this way). */
  service<K extends keyof S & string>(name: K): S[K] {
    return this.builtService('gateway.service()', name) as S[K];
  }

  async start(): Promise<void> {
    // the one place the order is written down: derived, so read it here (debug) or from `gateway.order`
    this.log.debug({ order: this.order }, 'start order, from the modules’ needs');
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

  /**
   * Stops in reverse order; keeps going past a module that fails to stop or does not stop within the time limit
   * (logged), and then reports the first such error.
   */
  async stop(): Promise<void> {
    let firstError: Error | undefined;
    for (const module of this.started.reverse()) {
      try {
        if (await this.stopWithinLimit(module)) {
          this.log.debug({ part: module.name }, 'stopped');
        } else {
          this.log.warn({ part: module.name, limitMs: this.stopTimeoutMs }, 'did not stop within the time limit; stopping the others');
          firstError ??= new ModuleStopTimeoutError(module.name, this.stopTimeoutMs);
        }
      } catch (error) {
        this.log.error({ err: error, part: module.name }, 'failed to stop');
        firstError ??= error instanceof Error ? error : new Error(`${module.name} failed to stop: ${String(error)}`);
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

  /** true when `stop()` finished in time, false when the limit came first (the stop goes on unawaited). */
  private async stopWithinLimit(module: GatewayModule): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), this.stopTimeoutMs)));
    const stopping = module.stop().then(() => true as const);
    try {
      const finished = await Promise.race([stopping, limit]);
      if (!finished) {
        stopping.catch((error: unknown) => this.log.error({ err: error, part: module.name }, 'failed to stop, after its time limit'));
      }
      return finished;
    } finally {
      clearTimeout(timer);
    }
  }

  private builtService(caller: string, name: string): unknown {
    const service = this.services.get(name);
    if (service === undefined) throw new ServiceNotBuiltError(caller, name);
    return service;
  }
}
