/**
 * The contract between the relay's durable outbox (outbox-store.ts) and its forwarder to HQ (forwarder.ts).
 *
 * An event counts as accepted once `append` resolves: it is then on disk (group commit, synchronous=FULL) and will reach
 * HQ or be accounted as dropped in a `store.relay.dropped` event. Rows leave the outbox only when HQ acknowledged them
 * (`remove`) or when their class went over its disk budget (dropped, oldest first, lowest class first).
 */

/** Relay classes, highest priority first. Budgets and the drain order follow this order. */
export const RELAY_CLASSES = ['critical', 'operational', 'telemetry'] as const;
export type RelayClass = (typeof RELAY_CLASSES)[number];

/** A CloudEvents 1.0 event in structured JSON mode, as HQ receives it. HQ deduplicates by `id`. */
export type RelayEvent = {
  specversion: '1.0';
  id: string;
  /** the store, e.g. `/stores/store-0001` */
  source: string;
  /** e.g. `com.smartstore.store.alert.changed` (the outbox files it as `store.alert.changed`, see cloud-event.ts) */
  type: string;
  /** RFC 3339 */
  time: string;
  subject?: string;
  datacontenttype: 'application/json';
  data: unknown;
};

/** One durable outbox row. `seq` increases with every append over the life of the data dir (never reused). */
export type OutboxRow = {
  seq: number;
  relayClass: RelayClass;
  id: string;
  type: string;
  /** ms since epoch when the event was appended */
  createdAt: number;
  /** the CloudEvent, serialized once at append time: what is published to HQ, byte for byte */
  body: string;
};

export type OutboxClassStats = {
  rows: number;
  bytes: number;
  budgetBytes: number;
  oldestCreatedAt: number | null;
  /** appended bytes per second over the last minutes (what the forecast extrapolates) */
  appendBytesPerS: number;
  /** seconds until the class's budget is full at the current rate without draining; null when not growing */
  forecastFullInS: number | null;
  /** events dropped over budget since the data dir was created, and the first/last time one was dropped */
  dropped: { count: number; firstAt: number | null; lastAt: number | null };
};

export type OutboxStats = { perClass: Record<RelayClass, OutboxClassStats>; maxSeq: number };

export interface RelayOutbox {
  /** Resolves with the row once it is durable (the group commit it joined has committed). */
  append(event: RelayEvent, relayClass: RelayClass): Promise<OutboxRow>;
  /**
   * Rows of one class with `afterSeq < seq <= uptoSeq`, ascending, at most `limit`. Returned rows are leased to the
   * caller: never dropped over budget while leased (what is in flight to HQ either arrives or stays), until `remove`d
   * or `release`d.
   */
  read(relayClass: RelayClass, afterSeq: number, limit: number, uptoSeq?: number): Promise<OutboxRow[]>;
  /** HQ acknowledged these rows: delete them (batched into the next group commit; resolves when durable). */
  remove(seqs: readonly number[]): Promise<void>;
  /** The link went down with these in flight: they may be dropped over budget again and will be read again. */
  release(seqs: readonly number[]): void;
  /** Called after every group commit with the rows it made durable, in seq order (the forwarder's live lane). */
  onDurable(listener: (rows: readonly OutboxRow[]) => void): () => void;
  stats(now: number): OutboxStats;
}
