/** The alert a facing's load cell asks for when it sends impossible weights (see edge/stock/plausible-weight.ts). */
import type { SensorFaultChange } from '../stock/stock-events.js';
import { sensorFaultKey, type NewAlert } from './alerts.js';

/** Resolution given when the load cell reads plausible weights again. */
export const SENSOR_FAULT_CLEARED = 'plausible readings again';

export function sensorFaultAlert(change: Pick<SensorFaultChange, 'shelfId' | 'facing' | 'sku'>): NewAlert {
  return {
    kind: 'sensor-fault',
    key: sensorFaultKey(change.shelfId, change.facing),
    severity: 'warning',
    title: `Check the load cell on ${change.shelfId} facing ${change.facing}`,
    shelfId: change.shelfId,
    facing: change.facing,
    sku: change.sku,
  };
}
