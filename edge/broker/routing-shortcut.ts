import { TopicFilterIndex } from './topic-filter-index.js';

/**
 * aedes hands every PUBLISH to its message emitter (mqemitter: `mq.emit(packet, done)`), which splits the topic into
 * levels and walks a subscription trie (qlobber) to find subscribers. In this gateway nobody can subscribe to what
 * devices publish — a device may subscribe to its own command topic only, exactly (device-acl.ts), and aedes' own
 * subscriptions are `$SYS/...` filters — so for a shelf reading that walk always finds nothing, and it was about a
 * tenth of the broker's time per message (bench/profile-ingest.ts: qlobber `_split_words` + `_match` + the emit).
 *
 * RoutingShortcut wraps aedes' emitter and keeps what was subscribed: exact filters by topic, wildcard filters by their
 * first level. A message whose topic no subscription could match (no exact filter equal to it, no wildcard filter whose
 * first level is its first level or a wildcard) is answered at once, as the emitter answers a message that matches
 * nothing; any other message goes to the emitter as before. Subscriptions count from `on` and stop counting once the
 * emitter has removed them (its removal is deferred), so a message is never skipped while one could still match.
 */

/** aedes' callback for a subscriber, as mqemitter calls it. */
type Listener = (packet: unknown, done: () => void) => void;

/** The part of mqemitter's interface aedes uses (aedes option `mq`). */
export type MessageEmitter = {
  readonly closed: boolean;
  on(topic: string, listener: Listener, done?: () => void): unknown;
  removeListener(topic: string, listener: Listener, done?: () => void): unknown;
  emit(packet: { topic: string }, done?: (error?: Error) => void): unknown;
  close(done: () => void): unknown;
};

export class RoutingShortcut implements MessageEmitter {
  /** filter → its listeners, each with how often it was added (bounded by the subscriptions aedes holds) */
  private readonly listeners = new Map<string, Map<Listener, number>>();
  /** the filters of `listeners` */
  private readonly filters = new TopicFilterIndex();
  /** messages answered here without the emitter (for tests and the bench) */
  shortcuts = 0;

  constructor(private readonly inner: MessageEmitter) {}

  get closed(): boolean {
    return this.inner.closed;
  }

  on(topic: string, listener: Listener, done?: () => void): this {
    let listeners = this.listeners.get(topic);
    if (!listeners) {
      listeners = new Map();
      this.listeners.set(topic, listeners);
      this.filters.add(topic);
    }
    listeners.set(listener, (listeners.get(listener) ?? 0) + 1);
    this.inner.on(topic, listener, done);
    return this;
  }

  removeListener(topic: string, listener: Listener, done?: () => void): this {
    // counted until the emitter has removed it: until then it can still be matched
    this.inner.removeListener(topic, listener, () => {
      this.forget(topic, listener);
      done?.();
    });
    return this;
  }

  emit(packet: { topic: string }, done?: (error?: Error) => void): this {
    // a closed emitter answers with its own error
    if (!this.inner.closed && !this.filters.mayMatch(packet.topic)) {
      this.shortcuts++;
      done?.();
      return this;
    }
    this.inner.emit(packet, done);
    return this;
  }

  close(done: () => void): this {
    this.inner.close(done);
    return this;
  }

  /** Whether any subscription held now could match `topic`. */
  mayMatch(topic: string): boolean {
    return this.filters.mayMatch(topic);
  }

  private forget(topic: string, listener: Listener): void {
    const listeners = this.listeners.get(topic);
    const added = listeners?.get(listener);
    if (!listeners || added === undefined) return;
    if (added > 1) {
      listeners.set(listener, added - 1);
      return;
    }
    listeners.delete(listener);
    if (listeners.size > 0) return;
    this.listeners.delete(topic);
    this.filters.remove(topic);
  }
}

/**
 * Puts the shortcut in front of the emitter aedes built (`new Aedes()` builds it with its own options; aedes' `listen()`
 * subscribes through it). Returns undefined, and leaves aedes as it is, when the emitter is not where aedes 1.x keeps it.
 */
export function installRoutingShortcut(aedes: object): RoutingShortcut | undefined {
  const holder = aedes as { mq?: Partial<MessageEmitter> };
  const inner = holder.mq;
  if (!inner || typeof inner.emit !== 'function' || typeof inner.on !== 'function' || typeof inner.removeListener !== 'function')
    return undefined;
  const shortcut = new RoutingShortcut(inner as MessageEmitter);
  holder.mq = shortcut;
  return shortcut;
}
