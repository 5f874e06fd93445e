import { describe, expect, it } from 'vitest';
import type { LabelContent } from '../../../edge/labels/label-driver.js';
import {
  endInFlight,
  launchSend,
  newestVersion,
  offerSend,
  requeueInFlight,
  supersedeInFlight,
  type LabelSend,
  type SendSlot,
  type Superseded,
} from '../../../edge/labels/label-send-slot.js';

const content = (version: number): LabelContent => ({
  labelId: 'L1',
  version,
  sku: '4000000000017',
  productName: 'Oat milk',
  priceCents: 100 + version,
});
type Sent = LabelSend & { cmdId: string };
const queued = (version: number): LabelSend => ({ content: content(version) });
const sent = (version: number): Sent => ({ content: content(version), cmdId: `c${version}` });
const toSent = (send: LabelSend): Sent => ({ ...send, cmdId: `c${send.content.version}` });
const versionsOf = (slot: SendSlot<Sent, LabelSend>) => ({
  inFlight: slot.inFlight?.content.version,
  queued: slot.queued?.content.version,
});

describe('one send in flight per label, a newer version replaces the older (label-send-slot)', () => {
  it('offer: queued into an empty slot, behind one in flight, or in place of an older queued one (which is superseded)', () => {
    const first = offerSend<Sent, LabelSend>({}, queued(1));
    expect(first).toMatchObject({ outcome: 'queued', slot: { queued: queued(1) } });
    expect(first).not.toHaveProperty('superseded');

    const behind = offerSend<Sent, LabelSend>({ inFlight: sent(1) }, queued(2));
    expect(behind.outcome).toBe('queued');
    expect(versionsOf(behind.slot)).toEqual({ inFlight: 1, queued: 2 });

    const replacing = offerSend<Sent, LabelSend>({ inFlight: sent(1), queued: queued(2) }, queued(5));
    expect(replacing).toMatchObject({ outcome: 'queued', superseded: { content: content(2), by: 5 } });
    expect(versionsOf(replacing.slot)).toEqual({ inFlight: 1, queued: 5 });
  });

  it('offer: the same version on its way changes nothing; an older one than any the label is getting is superseded', () => {
    const slot: SendSlot<Sent, LabelSend> = { inFlight: sent(3), queued: queued(5) };
    expect(offerSend(slot, queued(3))).toEqual({ outcome: 'duplicate', slot });
    expect(offerSend(slot, queued(5))).toEqual({ outcome: 'duplicate', slot });
    // between the one in flight and the one queued: still older than the newest
    expect(offerSend(slot, queued(4))).toEqual({ outcome: 'stale', slot, superseded: { content: content(4), by: 5 } });
    // older than the one in flight, nothing queued
    expect(offerSend<Sent, LabelSend>({ inFlight: sent(3) }, queued(2))).toMatchObject({
      outcome: 'stale',
      superseded: { content: content(2), by: 3 },
    });
  });

  it('launch: the queued version goes in flight; one still in flight is replaced and superseded unless the same version', () => {
    expect(launchSend<Sent, LabelSend>({ inFlight: sent(1) }, toSent)).toBeUndefined(); // nothing queued

    const plain = launchSend<Sent, LabelSend>({ queued: queued(2) }, toSent);
    expect(plain).toEqual({ slot: { inFlight: sent(2) }, sent: sent(2) });

    const replacing = launchSend<Sent, LabelSend>({ inFlight: sent(1), queued: queued(2) }, toSent);
    expect(replacing).toEqual({
      slot: { inFlight: sent(2) },
      sent: sent(2),
      replaced: sent(1),
      superseded: { content: content(1), by: 2 },
    });

    // the same version uploaded again (the carrier lost it): replaced, not superseded
    const again = launchSend<Sent, LabelSend>({ inFlight: sent(2), queued: queued(2) }, toSent);
    expect(again).toEqual({ slot: { inFlight: sent(2) }, sent: sent(2), replaced: sent(2) });
  });

  it('end: the queued version, if any, is next', () => {
    expect(endInFlight<Sent, LabelSend>({ inFlight: sent(1), queued: queued(2) })).toEqual({ queued: queued(2) });
    expect(endInFlight<Sent, LabelSend>({ inFlight: sent(1) })).toEqual({});
  });

  it('requeue: a send the transport lost is queued again, unless a newer version is queued (then it is superseded)', () => {
    const toQueued = ({ content }: Sent): LabelSend => ({ content });
    expect(requeueInFlight<Sent, LabelSend>({ inFlight: sent(1) }, toQueued)).toEqual({ slot: { queued: queued(1) } });
    expect(requeueInFlight<Sent, LabelSend>({ inFlight: sent(1), queued: queued(2) }, toQueued)).toEqual({
      slot: { queued: queued(2) },
      superseded: { content: content(1), by: 2 },
    });
    expect(requeueInFlight<Sent, LabelSend>({ queued: queued(2) }, toQueued)).toEqual({ slot: { queued: queued(2) } });
  });

  it('supersede in flight: a carrier that keeps the newest per label gets the queued one at once', () => {
    expect(supersedeInFlight<Sent, LabelSend>({ inFlight: sent(1), queued: queued(2) })).toEqual({
      slot: { queued: queued(2) },
      superseded: { content: content(1), by: 2 },
    });
    expect(supersedeInFlight<Sent, LabelSend>({ inFlight: sent(1) })).toEqual({ slot: { inFlight: sent(1) } });
  });

  it('bounded: whatever arrives, a slot holds at most one version in flight and one queued, the newest', () => {
    let random = 42;
    const next = () => (random = (random * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    let slot: SendSlot<Sent, LabelSend> = {};
    let newestOffered = 0;
    const supersededSeen: Superseded[] = [];
    const superseded = (entry: Superseded | undefined) => {
      if (entry) supersededSeen.push(entry);
    };
    for (let step = 0; step < 5_000; step++) {
      const roll = next();
      if (roll < 0.5) {
        const version = Math.floor(next() * 200);
        const offered = offerSend(slot, queued(version));
        superseded(offered.outcome === 'duplicate' ? undefined : offered.superseded);
        slot = offered.slot;
        if (offered.outcome === 'queued') newestOffered = Math.max(newestOffered, version);
      } else if (roll < 0.7) {
        const launched = launchSend(slot, toSent);
        if (launched) {
          superseded(launched.superseded);
          slot = launched.slot;
        }
      } else if (roll < 0.85) {
        slot = endInFlight(slot);
      } else {
        const step = requeueInFlight(slot, ({ content }) => ({ content }));
        superseded(step.superseded);
        slot = step.slot;
      }
      const { inFlight, queued: waiting } = versionsOf(slot);
      // the queued one is always newer than the one in flight
      if (inFlight !== undefined && waiting !== undefined) expect(waiting).toBeGreaterThan(inFlight);
      expect(newestVersion(slot) ?? 0).toBeLessThanOrEqual(newestOffered);
    }
    // sends were superseded along the way, each by a newer version
    expect(supersededSeen.length).toBeGreaterThan(100);
    expect(supersededSeen.filter(({ content, by }) => by <= content.version)).toEqual([]);
  });
});
