/** The cold-chain policies of the configured cases: `coldChain` of each `opcua.devices` entry of kind `case`. */
import type { OpcuaDeviceConfig } from '../opcua/opcua-devices-config.js';
import type { ColdChainPolicy } from './cold-chain.js';

export function coldChainPolicies(devices: readonly Pick<OpcuaDeviceConfig, 'id' | 'kind' | 'coldChain'>[]): Map<string, ColdChainPolicy> {
  const policies = new Map<string, ColdChainPolicy>();
  for (const device of devices) if (device.kind === 'case' && device.coldChain) policies.set(device.id, device.coldChain);
  return policies;
}
