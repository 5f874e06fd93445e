import { TopicFilterIndex } from './topic-filter-index.js';

/**
 * For every QoS 1 PUBLISH aedes asks its persistence which stored subscriptions the message must be queued for
 * (aedes.js enqueueOffline: `subscriptionsByTopic(topic)`, then `outgoingEnqueueCombi(subs, packet)`): a split of the
 * topic and a walk of the persistence's own trie, and two promises. Only the subscriptions of persistent sessions
 * (clean = false) are stored there, and under the ACL those are command topics: a device's reading matches none, and
 * the lookup was about a twentieth of the broker's time per QoS 1 reading (bench/profile-ingest.ts: QlobberSub.match).
 *
 * The shortcut mirrors which QoS > 0 subscriptions the persistence stores (aedes-persistence keeps only those in its
 * trie) in a TopicFilterIndex, and answers `subscriptionsByTopic` with no subscriptions when no stored filter could
 * match. The mirror errs on the side of matching: a filter is counted from the call that stores it, and stops counting
 * only once the call that removes it has finished and no later call stored it again.
 */

type SessionClient = { id: string };
type StoredSubscription = { topic: string; qos: number };

/** The part of aedes' persistence interface the shortcut stands in front of (aedes-persistence 11). */
export type SubscriptionPersistence = {
  addSubscriptions(client: SessionClient, subscriptions: StoredSubscription[]): Promise<void>;
  removeSubscriptions(client: SessionClient, topics: string[]): Promise<void>;
  cleanSubscriptions(client: SessionClient): Promise<void>;
  subscriptionsByTopic(topic: string): Promise<unknown[]>;
  outgoingEnqueueCombi(subscriptions: unknown[], packet: unknown): Promise<void>;
};

const NO_SUBSCRIPTIONS: Promise<unknown[]> = Promise.resolve(Object.freeze([]) as unknown as unknown[]);
const DONE: Promise<void> = Promise.resolve();

/** One stored filter of one client: `version` changes with every call that stores it. */
type Held = { version: number };

export class PersistenceShortcut {
  /** client id → filter → its hold (only QoS > 0 subscriptions of persistent sessions: bounded by the persistence) */
  private readonly held = new Map<string, Map<string, Held>>();
  private readonly filters = new TopicFilterIndex();
  private version = 0;
  /** lookups answered here without the persistence (for tests and the bench) */
  shortcuts = 0;

  constructor(private readonly inner: SubscriptionPersistence) {}

  /** Replaces the persistence's methods on the object itself: aedes keeps calling the same object. */
  install(): void {
    const inner = this.inner;
    const add = inner.addSubscriptions.bind(inner);
    const remove = inner.removeSubscriptions.bind(inner);
    const clean = inner.cleanSubscriptions.bind(inner);
    const byTopic = inner.subscriptionsByTopic.bind(inner);
    const enqueue = inner.outgoingEnqueueCombi.bind(inner);
    inner.addSubscriptions = (client, subscriptions) => {
      const released: Array<[string, number]> = [];
      for (const { topic, qos } of subscriptions) {
        if (qos > 0) this.hold(client.id, topic);
        else released.push(this.versionOf(client.id, topic));
      }
      return this.releaseAfter(add(client, subscriptions), client.id, released);
    };
    inner.removeSubscriptions = (client, topics) =>
      this.releaseAfter(
        remove(client, topics),
        client.id,
        topics.map((topic) => this.versionOf(client.id, topic)),
      );
    inner.cleanSubscriptions = (client) =>
      this.releaseAfter(
        clean(client),
        client.id,
        [...(this.held.get(client.id)?.keys() ?? [])].map((topic) => this.versionOf(client.id, topic)),
      );
    inner.subscriptionsByTopic = (topic) => {
      if (this.filters.mayMatch(topic)) return byTopic(topic);
      this.shortcuts++;
      return NO_SUBSCRIPTIONS;
    };
    // nothing to queue: the persistence would only loop over nothing in an async function
    inner.outgoingEnqueueCombi = (subscriptions, packet) => (subscriptions.length === 0 ? DONE : enqueue(subscriptions, packet));
  }

  mayMatch(topic: string): boolean {
    return this.filters.mayMatch(topic);
  }

  private hold(clientId: string, topic: string): void {
    let filters = this.held.get(clientId);
    if (!filters) {
      filters = new Map();
      this.held.set(clientId, filters);
    }
    const held = filters.get(topic);
    if (held) held.version = ++this.version;
    else {
      filters.set(topic, { version: ++this.version });
      this.filters.add(topic);
    }
  }

  /** The filter's version now (-1: not held), to release it later only if nothing stored it again meanwhile. */
  private versionOf(clientId: string, topic: string): [string, number] {
    return [topic, this.held.get(clientId)?.get(topic)?.version ?? -1];
  }

  private releaseAfter(call: Promise<void>, clientId: string, topics: Array<[string, number]>): Promise<void> {
    const release = () => {
      const filters = this.held.get(clientId);
      if (!filters) return;
      for (const [topic, version] of topics) {
        if (version < 0 || filters.get(topic)?.version !== version) continue;
        filters.delete(topic);
        this.filters.remove(topic);
      }
      if (filters.size === 0) this.held.delete(clientId);
    };
    // released only once the persistence removed it; a failed removal keeps it held (the shortcut then just matches)
    return call.then(release);
  }
}

/**
 * Puts the shortcut in front of the persistence aedes set up in `listen()` (aedes-persistence's memory store unless one
 * was configured). Returns undefined, and leaves it as it is, when the persistence lacks one of the methods.
 */
export function installPersistenceShortcut(aedes: object): PersistenceShortcut | undefined {
  const persistence = (aedes as { persistence?: Partial<SubscriptionPersistence> }).persistence;
  const methods = [
    'addSubscriptions',
    'removeSubscriptions',
    'cleanSubscriptions',
    'subscriptionsByTopic',
    'outgoingEnqueueCombi',
  ] as const;
  if (!persistence || !methods.every((method) => typeof persistence[method] === 'function')) return undefined;
  const shortcut = new PersistenceShortcut(persistence as SubscriptionPersistence);
  shortcut.install();
  return shortcut;
}
