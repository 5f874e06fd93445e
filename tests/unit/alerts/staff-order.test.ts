/**
 * The staff page (dashboards/staff/app.js, a plain browser script) sorts alerts as the API does. Its two sorting
 * functions are read from the page's source and run here against the gateway's compareAlertsForStaff.
 */
import { readFile } from 'node:fs/promises';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { compareAlertsForStaff, openAlert, type Alert } from '../../../edge/alerts/alerts.js';

type CompareAlerts = (a: Alert, b: Alert) => number;

async function pageCompare(): Promise<CompareAlerts> {
  const source = await readFile(new URL('../../../dashboards/staff/app.js', import.meta.url), 'utf8');
  const fn = (name: string) => {
    const match = new RegExp(`^function ${name}\\(.*?^}`, 'ms').exec(source);
    if (!match) throw new Error(`function ${name} not found in app.js`);
    return match[0];
  };
  // the page's own functions, run as the browser would run them: a script in a context of its own
  return runInNewContext(`${fn('urgency')}\n${fn('compareAlerts')}\ncompareAlerts;`, {}, { filename: 'app.js' }) as CompareAlerts;
}

const alert = (id: string, kind: Alert['kind'], severity: Alert['severity'], openedAt: number): Alert =>
  openAlert({ kind, key: `${kind}:${id}`, severity, title: id }, id, openedAt);

const ALERTS = [
  alert('fault', 'sensor-fault', 'warning', 1),
  alert('low-new', 'low-stock', 'warning', 50),
  alert('out-new', 'low-stock', 'critical', 60),
  alert('mismatch', 'kiosk-weight-mismatch', 'critical', 70),
  alert('low-old', 'low-stock', 'warning', 5),
  alert('out-old', 'low-stock', 'critical', 10),
  alert('assist', 'kiosk-assist', 'critical', 40),
  alert('assist-old', 'kiosk-assist', 'warning', 30),
];
/** every other kind, for the page-equals-API check */
const MORE = [
  alert('price', 'price-mismatch', 'critical', 80),
  alert('warm', 'cold-chain', 'critical', 3),
  alert('door', 'case-door-open', 'warning', 4),
  alert('offline', 'label-offline', 'warning', 2),
  alert('battery', 'label-battery-low', 'warning', 6),
];

describe('staff page alert order', () => {
  it('a customer waiting, then out of stock, then low stock, then the rest; oldest first within each', async () => {
    const compare = await pageCompare();
    expect([...ALERTS].sort(compare).map((a) => a.id)).toEqual([
      'assist-old',
      'assist',
      'mismatch',
      'out-old',
      'out-new',
      'low-old',
      'low-new',
      'fault',
    ]);
  });

  it('is the order of the API (compareAlertsForStaff)', async () => {
    const compare = await pageCompare();
    const all = [...ALERTS, ...MORE];
    expect([...all].sort(compare)).toEqual([...all].sort(compareAlertsForStaff));
  });
});
