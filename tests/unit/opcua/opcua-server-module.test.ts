import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { GatewayBus } from '../../../edge/core/events.js';
import { OpcuaServerModule } from '../../../edge/opcua/module.js';

const disabled = {
  enabled: false,
  host: '127.0.0.1',
  port: 0,
  hostname: null,
  allowAnonymous: false,
  allowUnsecured: false,
  scalesNodeset: false,
  maxSessions: 5,
  users: [],
};

describe('OPC UA server module', () => {
  it('disabled, it starts without subscribing to anything and adds nothing to health', async () => {
    const bus = new GatewayBus({ onHandlerError: () => undefined });
    const touched: string[] = [];
    const module = new OpcuaServerModule({
      config: disabled,
      storeId: 's',
      dataDir: '/nonexistent',
      bus,
      planogram: () => (touched.push('planogram'), { planogram: { facings: [] }, product: () => undefined }),
      facing: () => undefined,
      liveWeight: () => undefined,
      devices: () => (touched.push('devices'), []),
      isConnected: () => false,
      alerts: () => {
        touched.push('alerts');
        throw new Error('not needed');
      },
      durable: () => {
        touched.push('durable');
        return Promise.resolve();
      },
      env: {},
      log: pino({ level: 'silent' }),
    });
    await module.start();
    for (const event of [
      'stock.changed',
      'alert.changed',
      'device.connection',
      'device.message:kiosk/status',
      'device.message:shelf/weight',
    ] as const) {
      expect(bus.subscriberCount(event), event).toBe(0);
    }
    expect(touched).toEqual([]);
    expect(module.health).toBeUndefined();
    expect(module.port).toBeUndefined();
    await module.stop();
  });

  it('loads node-opcua only with import() when enabled: no static import of it, or of the files that import it', () => {
    const source = readFileSync(new URL('../../../edge/opcua/module.ts', import.meta.url), 'utf8');
    const runtimeImports = [...source.matchAll(/^import (?!type )[^;]*from '([^']+)'/gm)].map((m) => m[1]);
    const eager = (s: string | undefined) => s?.startsWith('node-opcua') || s === './opcua-server.js' || s === './store-address-space.js';
    expect(runtimeImports.filter(eager)).toEqual([]);
    expect(source).toContain("import('./opcua-server.js')");
  });
});
