/**
 * One send in flight per label, a newer version replaces the older: the rule every label driver keeps (direct MQTT
 * labels, MQTT access points, OpenEPaperLink), kept here once.
 *
 * A label's sends are a slot of at most two: `inFlight`, handed to its carrier (the label, an access point) with the
 * outcome awaited, and `queued`, the newest version not sent yet. Each step takes a slot and returns the next one with
 * the version it superseded, if any (the driver reports that one failed, not retryable: a newer price is on its way).
 * Pure and bounded: no time, no I/O, no events, and never more than two versions per label whatever arrives. The
 * driver decides when the queued one may go (after the one in flight ended, or at once where its carrier keeps only
 * the newest command per label) and what to tell the carrier about a send it replaces.
 */
import type { LabelContent } from './label-driver.js';

/** What a driver keeps of a send: the content, and whatever its carrier needs (cmdId, deadline, retries …). */
export type LabelSend = { readonly content: LabelContent };

export type SendSlot<F extends LabelSend, Q extends LabelSend = F> = { readonly inFlight?: F; readonly queued?: Q };

/** A version that will not be shown because version `by` replaced it. */
export type Superseded = { readonly content: LabelContent; readonly by: number };

export type Offered<F extends LabelSend, Q extends LabelSend> =
  /** queued (replacing an older queued version, if any) */
  | { readonly outcome: 'queued'; readonly slot: SendSlot<F, Q>; readonly superseded?: Superseded }
  /** this version is queued or in flight already: nothing changes */
  | { readonly outcome: 'duplicate'; readonly slot: SendSlot<F, Q> }
  /** older than a version the label is getting: the offered one is superseded, the slot unchanged */
  | { readonly outcome: 'stale'; readonly slot: SendSlot<F, Q>; readonly superseded: Superseded };

export type SlotStep<F extends LabelSend, Q extends LabelSend> = { readonly slot: SendSlot<F, Q>; readonly superseded?: Superseded };

/** The newest version the label is getting, queued or in flight. */
export function newestVersion(slot: SendSlot<LabelSend, LabelSend>): number | undefined {
  const inFlight = slot.inFlight?.content.version;
  const queued = slot.queued?.content.version;
  if (inFlight === undefined || queued === undefined) return inFlight ?? queued;
  return Math.max(inFlight, queued);
}

/** A newer version for the label: queued in place of an older queued one; an older or the same version changes nothing. */
export function offerSend<F extends LabelSend, Q extends LabelSend>(slot: SendSlot<F, Q>, send: Q): Offered<F, Q> {
  const { version } = send.content;
  if (slot.inFlight?.content.version === version || slot.queued?.content.version === version) return { outcome: 'duplicate', slot };
  const newest = newestVersion(slot);
  if (newest !== undefined && version < newest) return { outcome: 'stale', slot, superseded: { content: send.content, by: newest } };
  const older = slot.queued;
  return { outcome: 'queued', slot: { ...slot, queued: send }, ...(older ? { superseded: { content: older.content, by: version } } : {}) };
}

/**
 * The queued version goes out: it is in flight now. One still in flight is replaced (a carrier that keeps only the
 * newest command per label): returned as `replaced` for the driver to forget, superseded unless it is the same version
 * sent again. Undefined when nothing is queued.
 */
export function launchSend<F extends LabelSend, Q extends LabelSend>(
  slot: SendSlot<F, Q>,
  toInFlight: (queued: Q) => F,
): (SlotStep<F, Q> & { readonly sent: F; readonly replaced?: F }) | undefined {
  const queued = slot.queued;
  if (!queued) return undefined;
  const sent = toInFlight(queued);
  const replaced = slot.inFlight;
  const superseded =
    replaced && replaced.content.version !== queued.content.version ? { content: replaced.content, by: queued.content.version } : undefined;
  return { slot: { inFlight: sent }, sent, ...(replaced ? { replaced } : {}), ...(superseded ? { superseded } : {}) };
}

/** The send in flight ended (confirmed, failed or given up): the queued version, if any, is next. */
export function endInFlight<F extends LabelSend, Q extends LabelSend>(slot: SendSlot<F, Q>): SendSlot<F, Q> {
  return slot.queued ? { queued: slot.queued } : {};
}

/** The send in flight never reached the label (transport lost it): queued again, unless a newer version is queued. */
export function requeueInFlight<F extends LabelSend, Q extends LabelSend>(
  slot: SendSlot<F, Q>,
  toQueued: (inFlight: F) => Q,
): SlotStep<F, Q> {
  const { inFlight, queued } = slot;
  if (!inFlight) return { slot };
  if (queued) return { slot: { queued }, superseded: { content: inFlight.content, by: queued.content.version } };
  return { slot: { queued: toQueued(inFlight) } };
}

/** The queued version replaces the one in flight at once (its carrier keeps only the newest per label): that one is superseded. */
export function supersedeInFlight<F extends LabelSend, Q extends LabelSend>(slot: SendSlot<F, Q>): SlotStep<F, Q> {
  const { inFlight, queued } = slot;
  if (!inFlight || !queued) return { slot };
  return { slot: { queued }, superseded: { content: inFlight.content, by: queued.content.version } };
}
