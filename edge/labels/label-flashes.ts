/**
 * One label's LED can be asked to flash for more than one reason at once — find-my-facing while its facing is low,
 * HQ for a while, staff re-binding it — and one reason ending must not stop a flash another still wants. This keeps,
 * per label, the reasons that hold its flash on: `find` always reaches the driver (a label whose pattern ran out
 * flashes again), `stop` only once the last reason let go.
 */
import type { FlashPattern, LabelDriver } from './label-driver.js';

export type FlashReason = 'low-stock' | 'hq';
/** `held`: a stop not sent because another reason still wants the flash */
export type FlashOutcome = 'sent' | 'held' | 'no-driver';

export type LabelFlashing = { flash(labelId: string, pattern: FlashPattern, reason: FlashReason): FlashOutcome };

export class LabelFlashes implements LabelFlashing {
  /** label → the reasons its flash is on for (bounded by maxLabels; past it a flash goes out untracked, as before) */
  private readonly reasons = new Map<string, Set<FlashReason>>();

  constructor(private readonly deps: { driverFor: (labelId: string) => Pick<LabelDriver, 'flash'> | undefined; maxLabels: number }) {}

  flash(labelId: string, pattern: FlashPattern, reason: FlashReason): FlashOutcome {
    const held = this.reasons.get(labelId);
    if (pattern === 'stop') {
      held?.delete(reason);
      if (held && held.size > 0) return 'held';
      this.reasons.delete(labelId);
    }
    const driver = this.deps.driverFor(labelId);
    if (!driver) return 'no-driver';
    if (pattern !== 'stop') {
      if (held) held.add(reason);
      else if (this.reasons.size < this.deps.maxLabels) this.reasons.set(labelId, new Set([reason]));
    }
    driver.flash(labelId, pattern);
    return 'sent';
  }

  /** the reasons a label's flash is on for (tests, health) */
  reasonsOf(labelId: string): FlashReason[] {
    return [...(this.reasons.get(labelId) ?? [])];
  }
}
