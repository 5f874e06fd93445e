/**
 * Find-my-facing, the closed loop from stock to shelf: when a low-stock alert opens, the labels of that facing flash so
 * staff with a box of stock find the spot; when the alert resolves (restocked, or staff closed it) the flash stops.
 * The rule (`flashFor`) is pure; `FindMyFacing` follows the bus and hands flashes to the label drivers.
 */
import type { Logger } from 'pino';
import { isActive, parseLowStockKey, type AlertChange } from '../alerts/alerts.js';
import type { GatewayBus } from '../core/events.js';
import type { FlashPattern } from './label-driver.js';
import type { LabelFlashing } from './label-flashes.js';

export type FacingFlash = { shelfId: string; facing: number; pattern: FlashPattern };

/**
 * The flash an alert change calls for: `find` when a low-stock alert becomes active (opened — also a re-armed one),
 * `stop` when it is resolved; nothing for acknowledge, snooze or a changed unit count (the facing is still low).
 */
export function flashFor(change: AlertChange): FacingFlash | undefined {
  const { alert, previous } = change;
  if (alert.kind !== 'low-stock') return undefined;
  const place =
    alert.shelfId !== undefined && alert.facing !== undefined
      ? { shelfId: alert.shelfId, facing: alert.facing }
      : parseLowStockKey(alert.key);
  if (!place) return undefined;
  const wasActive = previous !== undefined && isActive(previous);
  if (isActive(alert) && !wasActive) return { ...place, pattern: 'find' };
  if (!isActive(alert) && wasActive) return { ...place, pattern: 'stop' };
  return undefined;
}

export type FindMyFacingDeps = {
  bus: GatewayBus;
  /** the labels bound to a facing */
  labelsAt: (shelfId: string, facing: number) => readonly string[];
  /** the labels' flashes (a stop here does not end a flash HQ still wants) */
  flashes: LabelFlashing;
  /** the facings with an active low-stock alert (at start: alerts opened before a restart keep flashing) */
  lowFacings: () => Iterable<{ shelfId: string; facing: number }>;
  log: Logger;
  /** flashes handed to a driver, and flashes of labels no driver carries */
  onFlash?: (outcome: 'sent' | 'no-driver') => void;
};

export class FindMyFacing {
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly deps: FindMyFacingDeps) {}

  start(): void {
    this.unsubscribe = this.deps.bus.on('alert.changed', 'labels:find-my-facing', (change) => {
      const flash = flashFor(change);
      if (flash) this.flashFacing(flash);
    });
    for (const { shelfId, facing } of this.deps.lowFacings()) this.flashFacing({ shelfId, facing, pattern: 'find' });
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** Flashes (or stops) every label of the facing; one without a driver now is logged, not queued: its alert stays on the staff page. */
  flashFacing({ shelfId, facing, pattern }: FacingFlash): void {
    for (const labelId of this.deps.labelsAt(shelfId, facing)) {
      const outcome = this.deps.flashes.flash(labelId, pattern, 'low-stock');
      if (outcome === 'no-driver') {
        this.deps.onFlash?.('no-driver');
        this.deps.log.info({ labelId, shelfId, facing, pattern }, 'find-my-facing: no driver carries the label');
        continue;
      }
      if (outcome === 'sent') this.deps.onFlash?.('sent');
      this.deps.log.debug({ labelId, shelfId, facing, pattern, outcome }, 'find-my-facing flash');
    }
  }
}
