import { describe, expect, it } from 'vitest';
import { compareAlertsForStaff, openAlert, type NewAlert } from '../../../edge/alerts/alerts.js';
import { caseDoorAlert, coldChainAlert } from '../../../edge/cold-chain/cold-chain-alerts.js';

const POLICY = { maxTemperatureC: 5, aboveForMs: 600_000, doorOpenMaxMs: 90_000 };

describe('cold-chain alerts', () => {
  it('a cold-chain excursion is critical, one per case, and says what to do', () => {
    const alert = coldChainAlert('case-1', 7.26, POLICY);
    expect(alert).toMatchObject({ kind: 'cold-chain', key: 'cold-chain:case-1', severity: 'critical', deviceId: 'case-1' });
    expect(alert.title).toBe('Case case-1: 7.3 °C, above its 5 °C limit for 10 min — check the goods');
  });

  it('a door left open is a warning, one per case', () => {
    const alert = caseDoorAlert('case-1', POLICY);
    expect(alert).toMatchObject({ kind: 'case-door-open', key: 'case-door-open:case-1', severity: 'warning' });
    expect(alert.title).toBe('Case case-1: door open for more than 2 min');
  });

  it('ranks for staff: a waiting customer, then a warm case with empty facings, then low facings and open doors, then load cells', () => {
    const at = (input: NewAlert, openedAt: number) => openAlert(input, input.key, openedAt);
    const alerts = [
      at({ kind: 'sensor-fault', key: 'sensor-fault:s/1', severity: 'warning', title: 'cell' }, 1),
      at(caseDoorAlert('case-1', POLICY), 2),
      at({ kind: 'low-stock', key: 'low-stock:s/2', severity: 'warning', title: 'low' }, 3),
      at(coldChainAlert('case-1', 9, POLICY), 4),
      at({ kind: 'low-stock', key: 'low-stock:s/3', severity: 'critical', title: 'empty' }, 5),
      at({ kind: 'kiosk-assist', key: 'kiosk-assist:k', severity: 'critical', title: 'help' }, 6),
    ];
    expect(alerts.sort(compareAlertsForStaff).map((a) => a.key)).toEqual([
      'kiosk-assist:k',
      'cold-chain:case-1',
      'low-stock:s/3',
      'case-door-open:case-1',
      'low-stock:s/2',
      'sensor-fault:s/1',
    ]);
  });
});
