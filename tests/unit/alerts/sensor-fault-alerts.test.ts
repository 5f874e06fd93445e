import { describe, expect, it } from 'vitest';
import { sensorFaultAlert } from '../../../edge/alerts/sensor-fault-alerts.js';

describe('sensorFaultAlert', () => {
  it('a warning keyed by facing that tells staff which load cell to check', () => {
    expect(sensorFaultAlert({ shelfId: 'shelf-a', facing: 2, sku: 'sku-1' })).toEqual({
      kind: 'sensor-fault',
      key: 'sensor-fault:shelf-a/2',
      severity: 'warning',
      title: 'Check the load cell on shelf-a facing 2',
      shelfId: 'shelf-a',
      facing: 2,
      sku: 'sku-1',
    });
  });
});
