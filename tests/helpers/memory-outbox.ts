/**
 * An in-memory RelayOutbox for the forwarder's and the commands' unit tests: the contract of edge/relay/outbox.ts
 * (leases, seq order, onDurable after a "group commit" on the next turn) without SQLite or budgets.
 */
import {
  RELAY_CLASSES,
  type OutboxClassStats,
  type OutboxRow,
  type OutboxStats,
  type RelayClass,
  type RelayEvent,
  type RelayOutbox,
} from '../../edge/relay/outbox.js';

export class MemoryOutbox implements RelayOutbox {
  readonly rows = new Map<number, OutboxRow>();
  readonly leased = new Set<number>();
  readonly removed: number[] = [];
  readonly released: number[] = [];
  private seq = 0;
  private pending: { row: OutboxRow; resolve: (row: OutboxRow) => void }[] = [];
  private readonly listeners = new Set<(rows: readonly OutboxRow[]) => void>();

  constructor(private readonly now: () => number = Date.now) {}

  append(event: RelayEvent, relayClass: RelayClass): Promise<OutboxRow> {
    const row: OutboxRow = {
      seq: ++this.seq,
      relayClass,
      id: event.id,
      type: event.type,
      createdAt: this.now(),
      body: JSON.stringify(event),
    };
    return new Promise((resolve) => {
      this.pending.push({ row, resolve });
      if (this.pending.length === 1) setImmediate(() => this.commit());
    });
  }

  /** appends without waiting for the commit: for filling a backlog before the forwarder starts */
  seed(event: RelayEvent, relayClass: RelayClass): OutboxRow {
    const row: OutboxRow = {
      seq: ++this.seq,
      relayClass,
      id: event.id,
      type: event.type,
      createdAt: this.now(),
      body: JSON.stringify(event),
    };
    this.rows.set(row.seq, row);
    return row;
  }

  private commit(): void {
    const batch = this.pending;
    this.pending = [];
    for (const { row } of batch) this.rows.set(row.seq, row);
    for (const { row, resolve } of batch) resolve(row);
    const rows = batch.map((b) => b.row);
    for (const listener of this.listeners) listener(rows);
  }

  async read(relayClass: RelayClass, afterSeq: number, limit: number, uptoSeq = Number.MAX_SAFE_INTEGER): Promise<OutboxRow[]> {
    const out: OutboxRow[] = [];
    for (const row of [...this.rows.values()].sort((a, b) => a.seq - b.seq)) {
      if (row.relayClass !== relayClass || row.seq <= afterSeq || row.seq > uptoSeq) continue;
      if (out.length >= limit) break;
      out.push(row);
      this.leased.add(row.seq);
    }
    return out;
  }

  async remove(seqs: readonly number[]): Promise<void> {
    for (const seq of seqs) {
      this.rows.delete(seq);
      this.leased.delete(seq);
      this.removed.push(seq);
    }
  }

  release(seqs: readonly number[]): void {
    for (const seq of seqs) {
      this.leased.delete(seq);
      this.released.push(seq);
    }
  }

  onDurable(listener: (rows: readonly OutboxRow[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stats(): OutboxStats {
    const perClass = {} as Record<RelayClass, OutboxClassStats>;
    for (const c of RELAY_CLASSES) {
      const rows = [...this.rows.values()].filter((r) => r.relayClass === c);
      perClass[c] = {
        rows: rows.length,
        bytes: rows.reduce((sum, r) => sum + Buffer.byteLength(r.body), 0),
        budgetBytes: 1e9,
        oldestCreatedAt: rows.length ? Math.min(...rows.map((r) => r.createdAt)) : null,
        appendBytesPerS: 0,
        forecastFullInS: null,
        dropped: { count: 0, firstAt: null, lastAt: null },
      };
    }
    return { perClass, maxSeq: this.seq };
  }
}

let nextId = 0;
export function testEvent(type: string, data: unknown = {}, id = `ev-${++nextId}`): RelayEvent {
  return {
    specversion: '1.0',
    id,
    source: '/stores/test-store',
    type,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data,
  };
}
