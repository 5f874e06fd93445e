import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { configSchemaJson } from '../../../edge/config/config-schema-json.js';
import type { GatewayConfig } from '../../../edge/config/gateway-config.js';

const CONFIG_DIR = fileURLToPath(new URL('../../../config/', import.meta.url));
const readConfigFile = (name: string) => readFile(`${CONFIG_DIR}${name}`, 'utf8');

describe('config/schema.json (generated from edge/config/config-schema.ts)', () => {
  it('the committed file is exactly what the TypeBox schema generates (run `npm run schema:config` after changing it)', async () => {
    expect(await readConfigFile('schema.json')).toBe(configSchemaJson());
  });

  it('keeps what editors need: draft-07 $schema, $id, and a description on the options that need one', async () => {
    const schema = JSON.parse(await readConfigFile('schema.json')) as {
      $schema: string;
      $id: string;
      properties: Record<string, { description?: string; properties?: Record<string, { description?: string }> }>;
    };
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(schema.$id).toBe('https://smartstore-edge.local/config.schema.json');
    expect(schema.properties.storeId?.description).toMatch(/store's id/);
    expect(schema.properties.lowStock?.properties?.sensorToleranceG?.description).toMatch(/sensor fault/);
    expect(schema.properties.commands?.properties?.ackTimeoutMs?.description).toMatch(/timed-out/);
  });

  it("an editor validating with the file accepts the shipped configs and names the gateway's problems", async () => {
    const validate = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(
      JSON.parse(await readConfigFile('schema.json')) as object,
    );
    // files as store IT writes them: only what differs from the defaults
    for (const name of ['example.yaml', 'demo.yaml']) {
      const file = parseYaml(await readConfigFile(name)) as unknown;
      expect(validate(file), `${name}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
    expect(validate({})).toBe(true);
    expect(validate({ http: { apiToken: 'short' }, lowStock: { rearmAfterMs: 10 } })).toBe(false);
    expect(validate.errors?.map((e) => `${e.instancePath} ${e.message}`)).toEqual([
      '/http/apiToken must NOT have fewer than 16 characters',
      '/lowStock/rearmAfterMs must be >= 1000',
    ]);
  });
});

describe('GatewayConfig is the static type of the schema', () => {
  it('nullable options are T | null, defaulted ones present, enums literal unions (checked by tsc)', () => {
    expectTypeOf<GatewayConfig['http']['apiToken']>().toEqualTypeOf<string | null>();
    expectTypeOf<GatewayConfig['planogram']>().toEqualTypeOf<{ file: string | null }>();
    expectTypeOf<GatewayConfig['hq']['url']>().toEqualTypeOf<string | null>();
    expectTypeOf<GatewayConfig['hq']['password']>().toEqualTypeOf<string | null>();
    expectTypeOf<GatewayConfig['hq']['drain']>().toEqualTypeOf<{ ratePerS: number; burst: number; jitter: number }>();
    expectTypeOf<GatewayConfig['http']['tls']>().toEqualTypeOf<{ certFile: string; keyFile: string } | null>();
    expectTypeOf<GatewayConfig['log']['level']>().toEqualTypeOf<'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'>();
    expectTypeOf<GatewayConfig['security']['scryptCost']>().toEqualTypeOf<1024 | 2048 | 4096 | 8192 | 16384 | 32768 | 65536>();
    expectTypeOf<GatewayConfig['lowStock']>().toEqualTypeOf<{
      smoothingWindow: number;
      debounceMs: number;
      staleAfterMs: number;
      rearmAfterMs: number;
      sensorToleranceG: number;
    }>();
  });
});
