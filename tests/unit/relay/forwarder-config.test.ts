import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../edge/config/load-config.js';
import { ConfigError } from '../../../edge/config/gateway-config.js';
import { configDefaults } from '../../../edge/core/schema-defaults.js';
import { OutboxConfigSchema } from '../../../edge/relay/outbox-config.js';
import { RelayConfigSchema, resolveRelayConfig } from '../../../edge/relay/relay-config.js';

const OUTBOX_DEFAULTS = configDefaults(OutboxConfigSchema);
const RELAY_DEFAULTS = configDefaults(RelayConfigSchema);

describe('the hq config section', () => {
  it('fills every default and names the client after the store', async () => {
    const config = await loadConfig({
      overrides: { storeId: 'store-42', hq: { enabled: true, url: 'mqtts://hq.example.com:8883' } },
      env: {},
    });
    const hq = resolveRelayConfig(config.hq, config.storeId);
    expect(hq).toMatchObject({
      clientId: 'smartstore-edge-store-42',
      topicPrefix: RELAY_DEFAULTS.topicPrefix,
      maxInFlight: RELAY_DEFAULTS.maxInFlight,
      drain: RELAY_DEFAULTS.drain,
    });
    expect(hq.outbox).toEqual(OUTBOX_DEFAULTS);
    expect(hq.eventTypePrefix).toBe('com.smartstore');
  });

  it("takes a reverse-DNS event type prefix, or '' for none", async () => {
    const load = (eventTypePrefix: string) =>
      loadConfig({ overrides: { hq: { enabled: true, url: 'mqtt://hq:1883', eventTypePrefix } }, env: {} });
    expect(resolveRelayConfig((await load('com.acme-retail.eu')).hq, 's').eventTypePrefix).toBe('com.acme-retail.eu');
    expect(resolveRelayConfig((await load('')).hq, 's').eventTypePrefix).toBe('');
    for (const bad of ['Com.Acme', 'com..acme', 'com.acme.', 'com/acme']) await expect(load(bad)).rejects.toBeInstanceOf(ConfigError);
  });

  it('merges a partial outbox section budget by budget, and takes the password from the environment', async () => {
    const config = await loadConfig({
      overrides: { hq: { enabled: true, url: 'mqtt://hq:1883', outbox: { budgets: { telemetryBytes: 1048576 } }, drain: { ratePerS: 0 } } },
      env: { SMARTSTORE_HQ_PASSWORD: 'from-env-secret' },
    });
    const hq = resolveRelayConfig(config.hq, config.storeId);
    expect(hq.outbox.budgets).toEqual({ ...OUTBOX_DEFAULTS.budgets, telemetryBytes: 1048576 });
    expect(hq.drain).toEqual({ ...RELAY_DEFAULTS.drain, ratePerS: 0 });
    expect(hq.password).toBe('from-env-secret');
  });

  it('lists every bad option with its path', async () => {
    const error = await loadConfig({
      overrides: {
        hq: {
          enabled: true,
          url: 'http://hq',
          topicPrefix: 'a/#',
          maxInFlight: 0,
          outbox: { budgets: { bogus: 1 } },
          drain: { ratePerS: -1 },
        },
      },
      env: {},
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues.join('\n');
    for (const path of ['/hq/url', '/hq/topicPrefix', '/hq/maxInFlight', '/hq/outbox/budgets', '/hq/drain/ratePerS'])
      expect(issues).toContain(path);
  });
});
