/** The staff alerts cold-chain signals ask for (edge/cold-chain/cold-chain.ts). */
import { caseAlertKey, type NewAlert } from '../alerts/alerts.js';
import type { ColdChainPolicy } from './cold-chain.js';

/** Resolutions given when the condition is over. */
export const COLD_CHAIN_RECOVERED = 'back in range';
export const CASE_DOOR_CLOSED = 'door closed';

function minutes(ms: number): string {
  const min = ms / 60_000;
  return min >= 1 ? `${Math.round(min)} min` : `${Math.round(ms / 1000)} s`;
}

/** Critical: food above its temperature limit for longer than allowed has to be checked, maybe thrown away. */
export function coldChainAlert(
  caseId: string,
  temperatureC: number,
  policy: Pick<ColdChainPolicy, 'maxTemperatureC' | 'aboveForMs'>,
): NewAlert {
  return {
    kind: 'cold-chain',
    key: caseAlertKey('cold-chain', caseId),
    severity: 'critical',
    title:
      `Case ${caseId}: ${temperatureC.toFixed(1)} °C, above its ${policy.maxTemperatureC} °C limit ` +
      `for ${minutes(policy.aboveForMs)} — check the goods`,
    deviceId: caseId,
  };
}

/** Warning: a door left open warms the case; closing it resolves the alert. */
export function caseDoorAlert(caseId: string, policy: Pick<ColdChainPolicy, 'doorOpenMaxMs'>): NewAlert {
  return {
    kind: 'case-door-open',
    key: caseAlertKey('case-door-open', caseId),
    severity: 'warning',
    title: `Case ${caseId}: door open for more than ${minutes(policy.doorOpenMaxMs)}`,
    deviceId: caseId,
  };
}
