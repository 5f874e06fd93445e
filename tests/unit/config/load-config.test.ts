import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../edge/config/gateway-config.js';
import { ConfigSchema } from '../../../edge/config/config-schema.js';
import { loadConfig, mergeConfig, redactConfig } from '../../../edge/config/load-config.js';
import { configDefaults } from '../../../edge/core/schema-defaults.js';

const CONFIG_DIR = fileURLToPath(new URL('../../../config/', import.meta.url));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smartstore-config-test-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function yamlFile(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

async function configError(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig: shipped files', () => {
  it('with no file every option is the default its schema declares (the embedded defaults: `npm run demo`)', async () => {
    const config = await loadConfig({ env: {} });
    expect(config).toEqual(configDefaults(ConfigSchema));
    expect(config.storeId).toBe('store-0001');
    expect(config.mqtt.port).toBe(1883);
    expect(config.http.apiToken).toBeNull();
    expect(config.lowStock).toEqual({
      smoothingWindow: 5,
      debounceMs: 5000,
      staleAfterMs: 60000,
      rearmAfterMs: 1800000,
      sensorToleranceG: 50,
    });
    expect(config.commands).toEqual({ ackTimeoutMs: 10000 });
  });

  it('config/example.yaml merged over the defaults validates', async () => {
    const config = await loadConfig({ file: join(CONFIG_DIR, 'example.yaml'), env: {} });
    expect(config.storeId).toBe('store-0042');
    expect(config.dataDir).toBe('/var/lib/smartstore');
    expect(config.planogram.file).toBe('/etc/smartstore/planogram.yaml');
    expect(config.security.scryptCost).toBe(4096);
  });

  it('an empty file is the defaults', async () => {
    const config = await loadConfig({ file: await yamlFile('empty.yaml', '# nothing here\n'), env: {} });
    expect(config).toEqual(await loadConfig({ env: {} }));
  });

  it('a file overrides only what it names; code overrides win over the file', async () => {
    const file = await yamlFile('partial.yaml', 'mqtt:\n  port: 1884\nlowStock:\n  debounceMs: 100\n');
    const config = await loadConfig({ file, overrides: { lowStock: { debounceMs: 7 } }, env: {} });
    expect(config.mqtt).toMatchObject({ port: 1884, host: '0.0.0.0', maxConnections: 5000 });
    expect(config.lowStock).toEqual({
      smoothingWindow: 5,
      debounceMs: 7,
      staleAfterMs: 60000,
      rearmAfterMs: 1800000,
      sensorToleranceG: 50,
    });
  });
});

describe('loadConfig: one error listing every problem', () => {
  it('lists each issue with its path: unknown options, wrong enum, range, pattern, type', async () => {
    const file = await yamlFile(
      'bad.yaml',
      [
        'storeId: "bad store"',
        'extra: true',
        'log:',
        '  level: loud',
        'mqtt:',
        '  port: 70000',
        '  bogus: 1',
        'http:',
        '  apiToken: short',
        '  maxSseClients: "50"',
        'security:',
        '  scryptCost: 1000',
        '',
      ].join('\n'),
    );
    const error = await configError(loadConfig({ file, env: {} }));
    expect(error.source).toBe(file);
    expect(error.issues).toEqual([
      '/: unknown option "extra"',
      '/storeId: must match pattern "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"',
      '/log/level: must be equal to one of the allowed values (fatal, error, warn, info, debug, trace, silent)',
      '/mqtt: unknown option "bogus"',
      '/mqtt/port: must be <= 65535',
      '/http/apiToken: must NOT have fewer than 16 characters',
      '/http/maxSseClients: must be integer',
      '/security/scryptCost: must be equal to one of the allowed values (1024, 2048, 4096, 8192, 16384, 32768, 65536)',
    ]);
    expect(error.message).toBe(`invalid configuration (${file}):\n${error.issues.map((i) => `  - ${i}`).join('\n')}`);
    expect(error.name).toBe('ConfigError');
  });

  it('invalid code overrides are named too, with source "defaults" when there is no file', async () => {
    const error = await configError(loadConfig({ overrides: { lowStock: { smoothingWindow: 0 } }, env: {} }));
    expect(error.source).toBe('defaults');
    expect(error.issues).toEqual(['/lowStock/smoothingWindow: must be >= 1']);
  });

  it('a missing file is "file not found"', async () => {
    const missing = join(dir, 'does-not-exist.yaml');
    const error = await configError(loadConfig({ file: missing, env: {} }));
    expect(error.source).toBe(missing);
    expect(error.issues).toEqual(['file not found']);
  });

  it('invalid YAML is one issue', async () => {
    const file = await yamlFile('broken.yaml', 'mqtt:\n  port: [1883\n');
    const error = await configError(loadConfig({ file, env: {} }));
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toMatch(/^not valid YAML: /);
  });

  it('a top level that is not a mapping is refused', async () => {
    const file = await yamlFile('list.yaml', '- a\n- b\n');
    const error = await configError(loadConfig({ file, env: {} }));
    expect(error.issues).toEqual(['top level must be a mapping']);
  });
});

describe('loadConfig: environment overrides', () => {
  it('SMARTSTORE_* win over the file', async () => {
    const file = await yamlFile('ports.yaml', 'mqtt:\n  port: 1884\nhttp:\n  port: 8081\n');
    const config = await loadConfig({
      file,
      env: {
        SMARTSTORE_MQTT_PORT: '1999',
        SMARTSTORE_HTTP_PORT: '0',
        SMARTSTORE_STORE_ID: 'store-7',
        SMARTSTORE_DATA_DIR: '/tmp/x',
        SMARTSTORE_LOG_LEVEL: 'debug',
        SMARTSTORE_API_TOKEN: 'a-very-long-api-token',
        SMARTSTORE_HQ_PASSWORD: 'hq-secret',
      },
    });
    expect(config.mqtt.port).toBe(1999);
    expect(config.http.port).toBe(0);
    expect(config.storeId).toBe('store-7');
    expect(config.dataDir).toBe('/tmp/x');
    expect(config.log.level).toBe('debug');
    expect(config.http.apiToken).toBe('a-very-long-api-token');
    expect(config.hq.password).toBe('hq-secret');
  });

  it('an empty variable is ignored; other variables are ignored', async () => {
    const config = await loadConfig({ env: { SMARTSTORE_MQTT_PORT: '', SMARTSTORE_NOPE: 'x', PATH: '/bin' } });
    expect(config.mqtt.port).toBe(1883);
  });

  it('a non-numeric port names the variable it came from', async () => {
    const error = await configError(loadConfig({ env: { SMARTSTORE_HTTP_PORT: 'abc', SMARTSTORE_MQTT_PORT: '-1' } }));
    expect(error.issues).toEqual([
      '/mqtt/port (from SMARTSTORE_MQTT_PORT): must be integer',
      '/http/port (from SMARTSTORE_HTTP_PORT): must be integer',
    ]);
  });

  it('an out-of-range port or a bad level from the environment names the variable too', async () => {
    const error = await configError(loadConfig({ env: { SMARTSTORE_MQTT_PORT: '65536', SMARTSTORE_LOG_LEVEL: 'loud' } }));
    expect(error.issues).toEqual([
      '/log/level (from SMARTSTORE_LOG_LEVEL): must be equal to one of the allowed values (fatal, error, warn, info, debug, trace, silent)',
      '/mqtt/port (from SMARTSTORE_MQTT_PORT): must be <= 65535',
    ]);
  });

  it('a too short API token from the environment is refused', async () => {
    const error = await configError(loadConfig({ env: { SMARTSTORE_API_TOKEN: 'short' } }));
    expect(error.issues).toEqual(['/http/apiToken (from SMARTSTORE_API_TOKEN): must NOT have fewer than 16 characters']);
  });
});

describe('prototype pollution', () => {
  it('__proto__ keys in a config file are reported as unknown options and pollute nothing', async () => {
    const file = await yamlFile('proto.yaml', '__proto__:\n  polluted: true\nmqtt:\n  __proto__:\n    port: 1\n  port: 1885\n');
    const error = await loadConfig({ file, env: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual(['/: unknown option "__proto__"', '/mqtt: unknown option "__proto__"']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).port).toBeUndefined();
  });

  it('mergeConfig keeps __proto__, constructor and prototype as own keys, never as prototypes', () => {
    const over = JSON.parse(
      '{"__proto__": {"polluted": 1}, "constructor": {"prototype": {"polluted": 2}}, "a": {"__proto__": {"polluted": 3}, "b": 2}}',
    ) as unknown;
    const merged = mergeConfig({ a: { b: 1, c: 1 } }, over) as Record<string, unknown>;
    expect(Object.keys(merged).sort()).toEqual(['__proto__', 'a', 'constructor']);
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(merged.a)).toBe(Object.prototype);
    expect((merged.a as Record<string, unknown>).b).toBe(2);
    expect((merged.a as Record<string, unknown>).c).toBe(1);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object as unknown as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('mergeConfig: objects merge key by key, anything else replaces, undefined keeps', () => {
    expect(mergeConfig({ a: 1, b: { c: 1, d: [1, 2] } }, { b: { d: [3] }, e: null })).toEqual({ a: 1, b: { c: 1, d: [3] }, e: null });
    expect(mergeConfig({ a: 1 }, undefined)).toEqual({ a: 1 });
    expect(mergeConfig({ a: 1 }, 'x')).toBe('x');
    expect(mergeConfig(null, { a: 1 })).toEqual({ a: 1 });
  });
});

describe('redactConfig', () => {
  it('hides the API token and the HQ password, and nothing else', async () => {
    const config = await loadConfig({ env: { SMARTSTORE_API_TOKEN: 'a-very-long-api-token', SMARTSTORE_HQ_PASSWORD: 'hq-secret' } });
    const redacted = redactConfig(config);
    expect(redacted.http.apiToken).toBe('[redacted]');
    expect(redacted.hq.password).toBe('[redacted]');
    expect(JSON.stringify(redacted)).not.toContain('a-very-long-api-token');
    expect(JSON.stringify(redacted)).not.toContain('hq-secret');
    expect({
      ...redacted,
      http: { ...redacted.http, apiToken: config.http.apiToken },
      hq: { ...redacted.hq, password: config.hq.password },
    }).toEqual(config);
    // the original is untouched
    expect(config.http.apiToken).toBe('a-very-long-api-token');
    expect(config.hq.password).toBe('hq-secret');
  });

  it('keeps an unset token and password null', async () => {
    const redacted = redactConfig(await loadConfig({ env: {} }));
    expect(redacted.http.apiToken).toBeNull();
    expect(redacted.hq.password).toBeNull();
  });
});
