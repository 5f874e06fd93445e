import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import {
  Gateway,
  GatewayStartError,
  MissingNeedError,
  ModuleStopTimeoutError,
  moduleDefiner,
  NeedCycleError,
  ServiceNotBuiltError,
  type GatewayModule,
  type HealthCheck,
  type ModuleSpec,
} from '../../../edge/core/module.js';

const silent = { log: pino({ level: 'silent' }) };

/** The services of these tests: any name, each a module. */
type Parts = Record<string, GatewayModule>;
const defineModule = moduleDefiner<Parts>();

type FakeOptions = { failStart?: Error; failStop?: Error; hangStop?: boolean; health?: () => HealthCheck };

/** A module that records its lifecycle in `journal`, and fails where told. */
function fake(name: string, journal: string[], options: FakeOptions = {}): GatewayModule {
  return {
    name,
    async start() {
      journal.push(`start ${name}`);
      // an await, so the runner must really wait for each start before the next
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (options.failStart) throw options.failStart;
      journal.push(`started ${name}`);
    },
    async stop() {
      journal.push(`stop ${name}`);
      if (options.hangStop) return new Promise<void>(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (options.failStop) throw options.failStop;
    },
    ...(options.health ? { health: options.health } : {}),
  };
}

/** A spec for `fake(name)` that needs `needs`. */
function part(name: string, journal: string[], needs: string[] = [], options: FakeOptions = {}): ModuleSpec {
  return defineModule({ name, needs, build: () => fake(name, journal, options) });
}

/** Lines the gateway logs, parsed. */
function logged(level = 'debug') {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (error: unknown) => error,
  );
}

describe('Gateway', () => {
  it('starts its modules after what they need, each after the previous finished, and stops them in reverse', async () => {
    const journal: string[] = [];
    const gateway = new Gateway(
      [part('http', journal, ['devices']), part('devices', journal, ['storage']), part('storage', journal)],
      silent,
    );
    expect(gateway.order).toEqual(['storage', 'devices', 'http']);
    await gateway.start();
    expect(journal).toEqual(['start storage', 'started storage', 'start devices', 'started devices', 'start http', 'started http']);
    journal.length = 0;
    await gateway.stop();
    expect(journal).toEqual(['stop http', 'stop devices', 'stop storage']);
  });

  it('logs the derived start order (debug) when it starts', async () => {
    const { log, lines } = logged();
    const gateway = new Gateway([part('b', [], ['a']), part('a', [])], { log });
    await gateway.start();
    expect(lines).toContainEqual(expect.objectContaining({ order: ['a', 'b'], msg: 'start order, from the modules’ needs' }));
    await gateway.stop();
  });

  it('builds each module after what it needs and hands it those modules', () => {
    const built: string[] = [];
    const storage = fake('storage', []);
    let handed: unknown;
    const gateway = new Gateway(
      [
        defineModule({
          name: 'devices',
          needs: ['storage'],
          build: (needs) => {
            built.push('devices');
            handed = needs;
            return fake('devices', []);
          },
        }),
        defineModule({ name: 'storage', build: () => (built.push('storage'), storage) }),
      ],
      silent,
    );
    expect(built).toEqual(['storage', 'devices']);
    expect(handed).toEqual({ storage });
    expect(gateway.service('storage')).toBe(storage);
    expect(gateway.modules.map((module) => module.name)).toEqual(['storage', 'devices']);
  });

  it('a missing need fails when the gateway is built, naming the module and the need, before anything is built', () => {
    const built: string[] = [];
    const build = () => {
      built.push('built');
      return fake('x', []);
    };
    const specs = [defineModule({ name: 'storage', build }), defineModule({ name: 'labels', needs: ['storage', 'broker'], build })];
    expect(() => new Gateway(specs, silent)).toThrow(MissingNeedError);
    expect(() => new Gateway(specs, silent)).toThrow('module "labels" needs "broker", which no module of the gateway provides');
    expect(built).toEqual([]);
  });

  it('a circular need fails when the gateway is built, naming the cycle', () => {
    const journal: string[] = [];
    const build = () => new Gateway([part('alerts', journal, ['stock']), part('stock', journal, ['alerts'])], silent);
    expect(build).toThrow(NeedCycleError);
    expect(build).toThrow('alerts → stock → alerts');
    expect(journal).toEqual([]);
  });

  it('a used module is handed behind a function that returns it once every module is built; two modules may use each other', () => {
    const stock = fake('stock', []);
    let stockOf: (() => GatewayModule) | undefined;
    const gateway = new Gateway(
      [
        defineModule({
          name: 'alerts',
          uses: ['stock'],
          build: (_needs, later) => {
            stockOf = later.stock;
            return fake('alerts', []);
          },
        }),
        defineModule({ name: 'stock', needs: ['alerts'], build: () => stock }),
      ],
      silent,
    );
    expect(gateway.order).toEqual(['alerts', 'stock']);
    expect(stockOf?.()).toBe(stock);
  });

  it('calling a used module while building throws ServiceNotBuiltError naming both', () => {
    const build = () =>
      new Gateway(
        [
          defineModule({ name: 'pki', uses: ['broker'], build: (_needs, later) => later.broker() }),
          defineModule({ name: 'broker', needs: ['pki'], build: () => fake('broker', []) }),
        ],
        silent,
      );
    expect(build).toThrow(ServiceNotBuiltError);
    expect(build).toThrow('module "pki" asked for "broker"');
  });

  it('the gateway provides itself as "gateway" (every module’s health), which needs nothing started', () => {
    let health: (() => Record<string, HealthCheck>) | undefined;
    const gateway = new Gateway(
      [
        defineModule({
          name: 'http',
          needs: ['gateway'],
          build: ({ gateway }) => {
            health = () => (gateway as unknown as { health(): Record<string, HealthCheck> }).health();
            return fake('http', []);
          },
        }),
        part('storage', [], [], { health: () => ({ ok: true }) }),
      ],
      silent,
    );
    expect(gateway.order).toEqual(['http', 'storage']);
    expect(health?.()).toEqual({ storage: { ok: true } });
  });

  it('service() of a name the gateway does not hold throws ServiceNotBuiltError', () => {
    const gateway = new Gateway([part('storage', [])], silent);
    expect(() => gateway.service('broker')).toThrow(ServiceNotBuiltError);
  });

  it('a second stop does nothing (every module is stopped once)', async () => {
    const journal: string[] = [];
    const gateway = new Gateway([part('a', journal), part('b', journal)], silent);
    await gateway.start();
    await gateway.stop();
    journal.length = 0;
    await gateway.stop();
    expect(journal).toEqual([]);
  });

  it('a failed start stops the modules already started, in reverse, and throws GatewayStartError naming the module', async () => {
    const journal: string[] = [];
    const cause = new Error('listen EADDRINUSE: address already in use 127.0.0.1:1883');
    const gateway = new Gateway(
      [part('storage', journal), part('devices', journal), part('broker', journal, [], { failStart: cause }), part('http', journal)],
      silent,
    );

    const error = await rejection(gateway.start());

    expect(error).toBeInstanceOf(GatewayStartError);
    expect(error).toMatchObject({ name: 'GatewayStartError', component: 'broker', cause });
    expect((error as Error).message).toBe('broker failed to start: listen EADDRINUSE: address already in use 127.0.0.1:1883');
    // the failed module is not stopped (it did not start), later ones never started
    expect(journal).toEqual([
      'start storage',
      'started storage',
      'start devices',
      'started devices',
      'start broker',
      'stop devices',
      'stop storage',
    ]);
    journal.length = 0;
    await gateway.stop();
    expect(journal).toEqual([]);
  });

  it('a failed start reports the start error even when stopping the started modules fails too', async () => {
    const journal: string[] = [];
    const gateway = new Gateway(
      [
        part('storage', journal, [], { failStop: new Error('disk gone') }),
        part('broker', journal, [], { failStart: new Error('port in use') }),
      ],
      silent,
    );
    await expect(gateway.start()).rejects.toMatchObject({ component: 'broker', message: 'broker failed to start: port in use' });
    expect(journal).toContain('stop storage');
  });

  it('the first module failing to start is named too, and nothing is stopped', async () => {
    const journal: string[] = [];
    const gateway = new Gateway(
      [part('storage', journal, [], { failStart: new Error('data dir is locked') }), part('http', journal)],
      silent,
    );
    await expect(gateway.start()).rejects.toMatchObject({ component: 'storage' });
    expect(journal).toEqual(['start storage']);
  });

  it('stop keeps going past a module that fails to stop and then throws the first error', async () => {
    const journal: string[] = [];
    const first = new Error('http would not close');
    const gateway = new Gateway(
      [
        part('storage', journal),
        part('broker', journal, [], { failStop: new Error('broker would not close') }),
        part('http', journal, [], { failStop: first }),
      ],
      silent,
    );
    await gateway.start();
    journal.length = 0;
    await expect(gateway.stop()).rejects.toBe(first);
    expect(journal).toEqual(['stop http', 'stop broker', 'stop storage']);
  });

  it('a stop that never ends is given up after the time limit: logged (warn), the others stopped, then reported', async () => {
    const journal: string[] = [];
    const { log, lines } = logged('warn');
    const gateway = new Gateway([part('storage', journal), part('opcua-server', journal, [], { hangStop: true }), part('http', journal)], {
      log,
      stopTimeoutMs: 50,
    });
    await gateway.start();
    journal.length = 0;

    const error = await rejection(gateway.stop());

    expect(journal).toEqual(['stop http', 'stop opcua-server', 'stop storage']);
    expect(error).toBeInstanceOf(ModuleStopTimeoutError);
    expect(error).toMatchObject({ module: 'opcua-server', limitMs: 50, message: 'opcua-server did not stop within 50 ms' });
    expect(lines).toEqual([
      expect.objectContaining({
        level: 40,
        part: 'opcua-server',
        limitMs: 50,
        msg: 'did not stop within the time limit; stopping the others',
      }),
    ]);
  });

  it('a stop within the time limit is waited for, however slow, and logs nothing above debug', async () => {
    const { log, lines } = logged('warn');
    const slow: GatewayModule = {
      name: 'slow',
      start: async () => undefined,
      stop: () => new Promise((resolve) => setTimeout(resolve, 30)),
    };
    const gateway = new Gateway([defineModule({ name: 'slow', build: () => slow })], { log, stopTimeoutMs: 5_000 });
    await gateway.start();
    const began = performance.now();
    await gateway.stop();
    expect(performance.now() - began).toBeGreaterThanOrEqual(25);
    expect(lines).toEqual([]);
  });

  it('health() collects the checks of the modules that have one, by module name', () => {
    let diskOk = true;
    const gateway = new Gateway(
      [
        part('storage', [], [], {
          health: () => (diskOk ? { ok: true, pendingWrites: 0 } : { ok: false, error: 'disk full', pendingWrites: 12 }),
        }),
        part('planogram', []),
        part('broker', [], [], { health: () => ({ ok: true, connectedDevices: 3 }) }),
      ],
      silent,
    );
    expect(gateway.health()).toEqual({ storage: { ok: true, pendingWrites: 0 }, broker: { ok: true, connectedDevices: 3 } });
    diskOk = false;
    expect(gateway.health()).toEqual({
      storage: { ok: false, error: 'disk full', pendingWrites: 12 },
      broker: { ok: true, connectedDevices: 3 },
    });
  });
});
