import { describe, expect, it } from 'vitest';
import { checkWithDefaults } from '../../../edge/core/schema-defaults.js';
import { OpcuaDeviceListSchema, expectedIntervalMs } from '../../../edge/opcua/opcua-devices-config.js';

// checked the way load-config checks the gateway config: strict, every error, defaults filled in (into a copy)
let lastErrors: unknown;
const validate = (devices: unknown): boolean => {
  const checked = checkWithDefaults(OpcuaDeviceListSchema, structuredClone(devices));
  lastErrors = checked.ok ? undefined : checked.errors;
  return checked.ok;
};

const caseDevice = {
  id: 'case-1',
  kind: 'case',
  endpointUrl: 'opc.tcp://127.0.0.1:4841',
  items: [
    { field: 'temperatureC', browsePath: '/1:RefrigeratedCase/1:Temperature' },
    { field: 'doorOpen', nodeId: 'ns=1;s=case/door' },
  ],
};

describe('opcua.devices config', () => {
  it('accepts a case with a browse path and a NodeId item', () => {
    expect(validate([caseDevice]), JSON.stringify(lastErrors)).toBe(true);
  });

  it('refuses an item with neither a NodeId nor a browse path', () => {
    expect(validate([{ ...caseDevice, items: [{ field: 'temperatureC' }] }])).toBe(false);
  });

  it('refuses a shelf weight item without its facing', () => {
    expect(validate([{ ...caseDevice, kind: 'shelf', items: [{ field: 'weightG', nodeId: 'ns=1;s=w' }] }])).toBe(false);
    expect(validate([{ ...caseDevice, kind: 'shelf', items: [{ field: 'weightG', facing: 2, nodeId: 'ns=1;s=w' }] }])).toBe(true);
  });

  it('refuses a non-OPC endpoint, a password in the file and an unknown security policy', () => {
    expect(validate([{ ...caseDevice, endpointUrl: 'http://x' }])).toBe(false);
    expect(validate([{ ...caseDevice, password: 'secret' }])).toBe(false);
    expect(validate([{ ...caseDevice, securityPolicy: 'Basic128Rsa15' }])).toBe(false);
  });

  it('takes the item interval, else the device interval (1 s by default: tests/unit/config/schema-defaults.test.ts)', () => {
    expect(expectedIntervalMs({ samplingIntervalMs: 500 }, { samplingIntervalMs: 100 })).toBe(100);
    expect(expectedIntervalMs({ samplingIntervalMs: 500 }, {})).toBe(500);
  });
});
