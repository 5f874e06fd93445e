/** The composition root's module list: built (no I/O) from a default config, the order it derives from the needs. */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../edge/config/load-config.js';
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
});
