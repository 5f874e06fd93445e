import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Gateway, GatewayStartError, type GatewayModule, type HealthCheck } from '../../../edge/core/module.js';

const silent = pino({ level: 'silent' });

/** A module that records its lifecycle in `journal`, and fails where told. */
function fake(
  name: string,
  journal: string[],
  options: { failStart?: Error; failStop?: Error; health?: () => HealthCheck } = {},
): GatewayModule {
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
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (options.failStop) throw options.failStop;
    },
    ...(options.health ? { health: options.health } : {}),
  };
}

describe('Gateway', () => {
  it('starts its modules in order, each after the previous finished, and stops them in reverse', async () => {
    const journal: string[] = [];
    const gateway = new Gateway([fake('storage', journal), fake('devices', journal), fake('http', journal)], silent);
    await gateway.start();
    expect(journal).toEqual(['start storage', 'started storage', 'start devices', 'started devices', 'start http', 'started http']);
    journal.length = 0;
    await gateway.stop();
    expect(journal).toEqual(['stop http', 'stop devices', 'stop storage']);
  });

  it('a second stop does nothing (every module is stopped once)', async () => {
    const journal: string[] = [];
    const gateway = new Gateway([fake('a', journal), fake('b', journal)], silent);
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
      [fake('storage', journal), fake('devices', journal), fake('broker', journal, { failStart: cause }), fake('http', journal)],
      silent,
    );

    const error = await gateway.start().then(
      () => undefined,
      (e: unknown) => e,
    );

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
      [fake('storage', journal, { failStop: new Error('disk gone') }), fake('broker', journal, { failStart: new Error('port in use') })],
      silent,
    );
    await expect(gateway.start()).rejects.toMatchObject({ component: 'broker', message: 'broker failed to start: port in use' });
    expect(journal).toContain('stop storage');
  });

  it('the first module failing to start is named too, and nothing is stopped', async () => {
    const journal: string[] = [];
    const gateway = new Gateway([fake('storage', journal, { failStart: new Error('data dir is locked') }), fake('http', journal)], silent);
    await expect(gateway.start()).rejects.toMatchObject({ component: 'storage' });
    expect(journal).toEqual(['start storage']);
  });

  it('stop keeps going past a module that fails to stop and then throws the first error', async () => {
    const journal: string[] = [];
    const first = new Error('http would not close');
    const gateway = new Gateway(
      [
        fake('storage', journal),
        fake('broker', journal, { failStop: new Error('broker would not close') }),
        fake('http', journal, { failStop: first }),
      ],
      silent,
    );
    await gateway.start();
    journal.length = 0;
    await expect(gateway.stop()).rejects.toBe(first);
    expect(journal).toEqual(['stop http', 'stop broker', 'stop storage']);
  });

  it('health() collects the checks of the modules that have one, by module name', () => {
    let diskOk = true;
    const gateway = new Gateway(
      [
        fake('storage', [], {
          health: () => (diskOk ? { ok: true, pendingWrites: 0 } : { ok: false, error: 'disk full', pendingWrites: 12 }),
        }),
        fake('planogram', []),
        fake('broker', [], { health: () => ({ ok: true, connectedDevices: 3 }) }),
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
