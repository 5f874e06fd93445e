/**
 * Defaults are written once, as `default:` in the TypeBox schemas: what a loaded config holds for an option the file
 * leaves out is that default, and nothing else fills options in.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Type } from 'typebox';
import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../../edge/config/config-schema.js';
import { loadConfig } from '../../../edge/config/load-config.js';
import { configDefaults, SchemaDefaultsError } from '../../../edge/core/schema-defaults.js';
import { OeplDriverLimitsSchema } from '../../../edge/labels/label-driver-limits.js';
import { OpcuaRecoverySchema } from '../../../edge/opcua/opcua-devices-config.js';
import { resolveRelayConfig } from '../../../edge/relay/relay-config.js';

type Node = { default?: unknown; properties?: Record<string, Node> };

/** Every option with a default in the schema, as [path, default]; nested objects step in. */
function declaredDefaults(node: Node, path: string[] = []): Array<[string[], unknown]> {
  const found: Array<[string[], unknown]> = [];
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    if (child.properties) found.push(...declaredDefaults(child, [...path, key]));
    else if ('default' in child) found.push([[...path, key], child.default]);
  }
  return found;
}

const at = (value: unknown, path: readonly string[]): unknown =>
  path.reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], value);

describe('defaults come from the config schema', () => {
  it('with no file, every option is its schema default, and every option of the loaded config has one', async () => {
    const config = await loadConfig({ env: {} });
    const defaults = declaredDefaults(ConfigSchema as unknown as Node);
    expect(defaults.length).toBeGreaterThan(100);
    for (const [path, value] of defaults) expect(at(config, path), path.join('.')).toEqual(value);
    expect(config).toEqual(configDefaults(ConfigSchema));
  });

  it('a default changed in the schema is what the loader hands out (no second copy in code)', async () => {
    const jitter = ConfigSchema.properties.hq.properties.drain.properties.jitter as unknown as { default: number };
    const original = jitter.default;
    try {
      jitter.default = 0.35;
      // a fresh schema object is compiled afresh; the cached validator of ConfigSchema keeps the compiled default,
      // so the check goes through configDefaults of a copy of the section
      const hq = configDefaults(Type.Object({ ...ConfigSchema.properties.hq.properties }));
      expect(hq.drain.jitter).toBe(0.35);
    } finally {
      jitter.default = original;
    }
    const config = await loadConfig({ overrides: { hq: { drain: { ratePerS: 10 } } }, env: {} });
    expect(config.hq.drain).toEqual({ ratePerS: 10, burst: 200, jitter: original });
  });

  it('the relay resolves only what derives from other options', async () => {
    const config = await loadConfig({ overrides: { storeId: 'store-7', hq: { reconnectMinMs: 120_000 } }, env: {} });
    const hq = resolveRelayConfig(config.hq, config.storeId);
    expect(hq.clientId).toBe('smartstore-edge-store-7');
    expect(hq.reconnectMaxMs).toBe(120_000);
    expect(hq.outbox).toEqual(config.hq.outbox);
  });

  it('defaults reach into list entries: an OPC UA device with only what it must name', async () => {
    const device = {
      id: 'case-1',
      kind: 'case',
      endpointUrl: 'opc.tcp://127.0.0.1:4841',
      items: [{ field: 'temperatureC', nodeId: 'ns=1;s=t' }],
    };
    const config = await loadConfig({ overrides: { opcua: { devices: [device] } }, env: {} });
    expect(config.opcua.devices[0]).toEqual({
      ...device,
      securityMode: 'None',
      securityPolicy: 'None',
      samplingIntervalMs: 1_000,
      recovery: configDefaults(OpcuaRecoverySchema),
    });
    expect(configDefaults(OpcuaRecoverySchema)).toEqual({
      reconnectInitialMs: 500,
      reconnectMaxMs: 30_000,
      recoveryDeadlineMs: 10_000,
      requestTimeoutMs: 10_000,
      staleAfterIntervals: 5,
      minSilenceMs: 5_000,
    });
  });

  it('loading fills a copy: the overrides handed in are left as they were', async () => {
    const overrides = Object.freeze({ lowStock: Object.freeze({ debounceMs: 7 }) });
    const config = await loadConfig({ overrides, env: {} });
    expect(config.lowStock.debounceMs).toBe(7);
    expect(overrides).toEqual({ lowStock: { debounceMs: 7 } });
  });

  it('configDefaults gives the whole value of a section or a driver, fresh each time', () => {
    const limits = configDefaults(OeplDriverLimitsSchema);
    expect(limits).toMatchObject({ requestsPerSecond: 5, idleCloseMs: 10_000, idlePollMs: 60_000, maxPollPages: 64 });
    expect(limits.ttlMinutes).toBeUndefined();
    limits.requestsPerSecond = 1;
    expect(configDefaults(OeplDriverLimitsSchema).requestsPerSecond).toBe(5);
  });

  it('a schema with a required option without a default cannot stand alone: configDefaults says which', () => {
    const schema = Type.Object({ url: Type.String(), port: Type.Integer({ default: 80 }) });
    expect(() => configDefaults(schema)).toThrow(SchemaDefaultsError);
    expect(() => configDefaults(schema)).toThrow("/: must have required property 'url'");
  });
});

describe('config/schema.json for editors', () => {
  it('requires no option that has a default, and keeps the cross-field rules', async () => {
    const text = await readFile(fileURLToPath(new URL('../../../config/schema.json', import.meta.url)), 'utf8');
    const schema = JSON.parse(text) as Node & { required?: string[]; properties: Record<string, Node & { if?: unknown }> };
    expect(schema.required).toBeUndefined();
    expect(schema.properties.hq?.if).toEqual({ properties: { enabled: { const: true } }, required: ['enabled'] });
    expect(schema.properties.http?.if).toBeDefined();
    expect((schema.properties.mqtt?.properties?.port as Node).default).toBe(1883);
  });
});
