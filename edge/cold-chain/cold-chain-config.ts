/**
 * The `coldChain` section of the gateway configuration: the limits of each refrigerated case, by device id, whatever
 * its transport — an MQTT case (`case/<id>/telemetry`) and an OPC UA case (`opcua.devices`, which the driver turns
 * into the same message) are watched alike. Limits under `opcua.devices[].coldChain` (before `coldChain.cases`) are
 * still accepted, deprecated. Pure: TypeBox and plain data only.
 */
import { Type, type Static } from 'typebox';
import { DEVICE_ID_PATTERN } from '../device-registry/topics.js';
import { ColdChainLimitsSchema, type OpcuaDeviceConfig } from '../opcua/opcua-devices-config.js';
import type { ColdChainPolicy } from './cold-chain.js';

/** Bounds the cases watched (one RxJS group each), as `opcua.devices` bounds its devices. */
export const MAX_COLD_CHAIN_CASES = 500;

export const ColdChainCaseSchema = Type.Object(
  {
    id: Type.String({
      pattern: DEVICE_ID_PATTERN,
      description: 'device id of the case (MQTT `device add <id> --kind case`, or an opcua.devices id)',
    }),
    ...ColdChainLimitsSchema.properties,
  },
  { additionalProperties: false },
);

export const ColdChainConfigSchema = Type.Object(
  {
    cases: Type.Array(ColdChainCaseSchema, {
      maxItems: MAX_COLD_CHAIN_CASES,
      description: 'limits per refrigerated case, over MQTT or OPC UA alike; a case not listed raises no cold-chain or door alerts',
      default: [],
    }),
  },
  {
    additionalProperties: false,
    description: 'cold chain of refrigerated cases: temperature excursions (critical) and doors left open (warning)',
    default: {},
  },
);
export type ColdChainConfig = Static<typeof ColdChainConfigSchema>;

/** The policies to watch, and what in the config deserves a warning at start. */
export type ColdChainCases = {
  policies: ReadonlyMap<string, ColdChainPolicy>;
  /** ids whose limits came from the deprecated `opcua.devices[].coldChain` */
  fromDeprecatedOpcuaKeys: readonly string[];
  /** ids with more than one set of limits: the first in `coldChain.cases`, else under opcua.devices, is used */
  ignoredDuplicates: readonly string[];
};

function policyOf(limits: ColdChainPolicy): ColdChainPolicy {
  const { maxTemperatureC, aboveForMs, backInRangeForMs, doorOpenMaxMs } = limits;
  return { maxTemperatureC, aboveForMs, backInRangeForMs, doorOpenMaxMs };
}

/**
 * The cold-chain policy of every configured case: `coldChain.cases` first, then the deprecated `coldChain` of each
 * `opcua.devices` entry of kind `case` whose id `coldChain.cases` does not name (so a store moving its limits over
 * can do it case by case, and the new section wins while both are there).
 */
export function coldChainCases(
  section: ColdChainConfig,
  opcuaDevices: readonly Pick<OpcuaDeviceConfig, 'id' | 'kind' | 'coldChain'>[],
): ColdChainCases {
  const policies = new Map<string, ColdChainPolicy>();
  const fromDeprecatedOpcuaKeys: string[] = [];
  const ignoredDuplicates = new Set<string>();
  for (const entry of section.cases) {
    if (policies.has(entry.id)) ignoredDuplicates.add(entry.id);
    else policies.set(entry.id, policyOf(entry));
  }
  for (const device of opcuaDevices) {
    if (device.kind !== 'case' || !device.coldChain) continue;
    if (policies.has(device.id)) {
      ignoredDuplicates.add(device.id);
      continue;
    }
    policies.set(device.id, policyOf(device.coldChain));
    fromDeprecatedOpcuaKeys.push(device.id);
  }
  return { policies, fromDeprecatedOpcuaKeys, ignoredDuplicates: [...ignoredDuplicates] };
}
