/** The composition root's module list: built (no I/O) from a default config, the order it derives from the needs. */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../edge/config/load-config.js';
import { defineModule, type GatewayServices } from '../../edge/core/module.js';
import { buildGateway } from '../../edge/main.js';

describe('buildGateway', () => {
  it('derives the start order from the modules’ needs: storage first, every listener before the device sources, http last', async () => {
    // building does no I/O: a data dir that does not exist is never touched
    const config = await loadConfig({ overrides: { dataDir: '/nonexistent/smartstore-order-test' }, env: {} });
    const { gateway } = buildGateway(config, { log: pino({ level: 'silent' }) });
    const order = gateway.order;
    expect(order).toEqual([
      'storage',
      'privacy',
      'planogram',
      'devices',
      'alerts',
      'audit',
      'coldChain',
      'stock',
      'labels',
      'campaigns',
      'priceIntegrity',
      'insight',
      'kpis',
      'relay',
      'opcuaServer',
      'opcuaDevices',
      'pki',
      'broker',
      'retention',
      'access',
      'http',
    ]);
    // the rules the list used to keep by comment, now needs
    const before = (a: string, b: string) => expect(order.indexOf(a), `${a} before ${b}`).toBeLessThan(order.indexOf(b));
    for (const listener of [
      'alerts',
      'audit',
      'coldChain',
      'stock',
      'labels',
      'campaigns',
      'priceIntegrity',
      'insight',
      'kpis',
      'relay',
      'opcuaServer',
    ]) {
      before(listener, 'broker');
      before(listener, 'opcuaDevices');
    }
    before('privacy', 'broker');
    before('audit', 'opcuaServer');
    before('campaigns', 'relay');
  });

  it('a module is handed only what it declares, typed by what the rooms provide (tsc checks the lines marked)', () => {
    const kpis = {} as GatewayServices['kpis'];
    const spec = defineModule({
      name: 'kpis',
      needs: ['storage'],
      build: (needs) => {
        // @ts-expect-error: devices is not among the declared needs
        void needs.devices;
        return kpis;
      },
    });
    expect(spec).toMatchObject({ name: 'kpis', needs: ['storage'], uses: [] });
    // @ts-expect-error: no room provides a service of that name
    defineModule({ name: 'kpis', needs: ['stockk'], build: () => kpis });
    // @ts-expect-error: the module named kpis must be built as the kpis room's module
    defineModule({ name: 'kpis', build: () => ({ name: 'kpis', start: async () => undefined, stop: async () => undefined }) });
  });

  it('says once, when built, what the config still says the old way (warn, component config)', async () => {
    const lines: Array<{ level: number; component?: string; msg: string }> = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) });
    const old = await loadConfig({
      overrides: { dataDir: '/nonexistent/smartstore-notes-test', insight: { timeZone: 'Europe/Berlin' } },
      env: {},
    });
    buildGateway(old, { log });
    expect(lines.filter((line) => line.component === 'config')).toEqual([
      expect.objectContaining({
        level: 40,
        msg: expect.stringContaining("/insight/timeZone: the store's time zone moved to /store/timeZone") as unknown,
      }),
    ]);
    lines.length = 0;
    buildGateway(await loadConfig({ overrides: { dataDir: '/nonexistent/smartstore-notes-test' }, env: {} }), { log });
    expect(lines.filter((line) => line.component === 'config')).toEqual([]);
  });
});
