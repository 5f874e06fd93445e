/**
 * When a facing's low-stock alert opens, follows the shelf, resolves — and when it stays away. Staff who resolve a
 * low-stock alert by hand while the facing is still low ("I know, the delivery comes tomorrow") silence the facing:
 * no new alert until it empties (its units drop to 0 from above) or `rearmAfterMs` passes while it is still low.
 * The facing turning ok ends the silence. Pure: the caller keeps the silences, passes `now` and applies the decision.
 */
import type { StockLevel } from '../stock/stock.js';

/** A facing whose low-stock alert staff resolved by hand while it was low. */
export type LowStockSilence = { silencedAt: number };

export type LowStockPolicyOptions = { rearmAfterMs: number };

export type LowStockEvent =
  /** the facing's level held for the debounce time (also a signal confirming the level it had, after a restart) */
  | { type: 'level'; level: StockLevel }
  /** the facing's units changed (every change, not debounced) */
  | { type: 'units'; units: number; previousUnits: number | null }
  /** staff resolved the facing's alert by hand; `level` is the facing's debounced level at that moment */
  | { type: 'resolved-by-staff'; level: StockLevel | 'unknown' }
  /** the periodic check, with the facing's debounced level now */
  | { type: 'tick'; level: StockLevel | 'unknown' };

export type LowStockDecision = {
  /**
   * raise: open the facing's alert (or bring the active one up to date); follow: bring the active alert, if any, up to
   * date with the units; resolve: the facing is ok again; none: leave the alerts alone
   */
  alert: 'raise' | 'follow' | 'resolve' | 'none';
  /** start: silence the facing from now; end: lift its silence; keep: leave it as it is */
  silence: 'start' | 'end' | 'keep';
};

const NOTHING: LowStockDecision = { alert: 'none', silence: 'keep' };

export function rearmDue(silence: LowStockSilence, now: number, options: LowStockPolicyOptions): boolean {
  return now - silence.silencedAt >= options.rearmAfterMs;
}

export function decideLowStock(
  silence: LowStockSilence | undefined,
  event: LowStockEvent,
  now: number,
  options: LowStockPolicyOptions,
): LowStockDecision {
  switch (event.type) {
    case 'level':
      if (event.level === 'ok') return { alert: 'resolve', silence: silence ? 'end' : 'keep' };
      if (!silence) return { alert: 'raise', silence: 'keep' };
      // a low signal while silenced (the facing's level confirmed after a restart) is what staff silenced
      return rearmDue(silence, now, options) ? { alert: 'raise', silence: 'end' } : NOTHING;
    case 'units':
      // an empty facing is news even to staff who knew it was low
      if (silence && event.units === 0 && event.previousUnits !== null && event.previousUnits > 0)
        return { alert: 'raise', silence: 'end' };
      return { alert: 'follow', silence: 'keep' };
    case 'resolved-by-staff':
      return event.level === 'low' ? { alert: 'none', silence: 'start' } : NOTHING;
    case 'tick':
      if (!silence) return NOTHING;
      if (event.level === 'ok') return { alert: 'none', silence: 'end' };
      return event.level === 'low' && rearmDue(silence, now, options) ? { alert: 'raise', silence: 'end' } : NOTHING;
  }
}
