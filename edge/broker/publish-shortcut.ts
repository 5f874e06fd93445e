/**
 * aedes takes every accepted PUBLISH through `broker.publish` (aedes.js `publish`, handlers/publish.js
 * `enqueuePublish`): it copies the packet into an aedes-packet, counts the topic's levels again and runs a series of
 * steps — retain store, (QoS 1) the stored-subscription lookup, the emitter's subscription match, then the `published`
 * hook and the 'publish' event. For a device's reading every step but the hook finds nothing to do under this
 * gateway's ACL: the gateway clears `retain` on device messages, nobody can subscribe to what a device publishes
 * (routing-shortcut.ts) and no persistent session can have stored a subscription that matches it
 * (persistence-shortcut.ts). The steps were about an eighth of the broker's time per QoS 0 reading
 * (bench/profile-ingest.ts: Packet, PublishState, runSeries, the emitter call, callPublished).
 *
 * PublishShortcut stands in front of `broker.publish` and calls the `published` hook at once for such a message —
 * what aedes' series ends in when every step finds nothing — and hands any other message to aedes as before: one from
 * no client (the gateway's own commands, a will), a retained one, QoS 2 (aedes keeps its duplicate check), one a
 * subscription held now could match, and every message while someone listens to aedes' 'publish' event.
 */

/** The hook aedes calls once a message is routed (aedes option `published`). */
type PublishedHook = (packet: ShortcutPacket, client: unknown, done: (error?: Error | null) => void) => void;

type ShortcutPacket = { topic: string; qos: number; retain: boolean };

/** The part of aedes' broker the shortcut stands in front of (aedes 1.x). */
export type PublishingBroker = {
  publish(packet: ShortcutPacket, client: unknown, done?: (error?: Error | null) => void): void;
  published: PublishedHook;
  listenerCount(event: 'publish'): number;
};

/** Whether a subscription held now could match a topic: the live ones (routing) and, for QoS 1, the stored ones. */
export type SubscriptionMirror = { mayMatch(topic: string): boolean };

export class PublishShortcut {
  /** messages handed to the `published` hook without aedes' publish steps (for tests and the bench) */
  shortcuts = 0;

  constructor(
    private readonly broker: PublishingBroker,
    private readonly live: SubscriptionMirror,
    private readonly stored: SubscriptionMirror,
  ) {}

  /** Replaces `publish` on the broker object itself: aedes' handlers call `client.broker.publish`. */
  install(): void {
    const broker = this.broker;
    const viaAedes = broker.publish.bind(broker);
    broker.publish = (packet, client, done) => {
      if (client === null || client === undefined || done === undefined || !this.nothingToRoute(packet))
        return viaAedes(packet, client, done);
      this.shortcuts++;
      broker.published(packet, client, done);
    };
  }

  /** True when aedes' publish steps would find nothing to store, queue or deliver for `packet`. */
  private nothingToRoute(packet: ShortcutPacket): boolean {
    if (packet.retain || packet.qos > 1) return false;
    if (this.live.mayMatch(packet.topic)) return false;
    if (packet.qos === 1 && this.stored.mayMatch(packet.topic)) return false;
    return this.broker.listenerCount('publish') === 0;
  }
}

/**
 * Puts the shortcut in front of aedes' `publish`, using the two subscription mirrors the gateway keeps. Returns
 * undefined, and leaves aedes as it is, when aedes lacks what the shortcut relies on.
 */
export function installPublishShortcut(aedes: object, live: SubscriptionMirror, stored: SubscriptionMirror): PublishShortcut | undefined {
  const broker = aedes as Partial<PublishingBroker>;
  if (typeof broker.publish !== 'function' || typeof broker.published !== 'function' || typeof broker.listenerCount !== 'function')
    return undefined;
  const shortcut = new PublishShortcut(broker as PublishingBroker, live, stored);
  shortcut.install();
  return shortcut;
}
