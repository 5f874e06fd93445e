// What staff read for each alert kind, state and severity. Typed by the server's own lists (edge/alerts/alerts.ts):
// a new kind there fails the page's type check until it has words here.
import type { AlertKind, AlertSeverity, AlertState } from '../../../../../edge/alerts/alerts.js';

export const KIND_WORDS: Readonly<Record<AlertKind, string>> = {
  'low-stock': 'Low stock',
  'kiosk-assist': 'Customer at a kiosk',
  'kiosk-weight-mismatch': 'Kiosk weight mismatch',
  'sensor-fault': 'Load cell fault',
  'cold-chain': 'Cold chain',
  'case-door-open': 'Case door open',
  'label-offline': 'Shelf label offline',
  'label-battery-low': 'Shelf label battery low',
  'price-mismatch': 'Price mismatch',
  'stock-out-predicted': 'Stock-out predicted',
  'phantom-stock': 'Phantom stock',
  'no-sales': 'Facing not selling',
  'scale-stuck': 'Load cell stuck',
};

export const STATE_WORDS: Readonly<Record<AlertState, string>> = {
  open: 'Open',
  acknowledged: 'Acknowledged',
  snoozed: 'Snoozed',
  resolved: 'Resolved',
};

export const SEVERITY_WORDS: Readonly<Record<AlertSeverity, string>> = { critical: 'Critical', warning: 'Warning' };
