/**
 * The outbox's disk budgets, pure: which class must give up how many bytes, which rows go, how drops are tallied, and
 * the append rate and disk-fill forecast. The store (outbox-store.ts) feeds these from its in-memory counters, so a
 * budget check never scans the table.
 */
import { RELAY_CLASSES, type RelayClass } from './outbox.js';

export type ClassBudgets = { perClass: Readonly<Record<RelayClass, number>>; totalBytes: number };

export type ClassUsage = {
  bytes: number;
  /** bytes of rows that may be dropped: not leased to the forwarder, not a drop report */
  droppableBytes: number;
};

/**
 * Bytes each class must drop so that every class is within its own budget and all of them within the total. A class
 * over its own budget drops its own rows; the total's excess is taken from the lowest class first (telemetry, then
 * operational, then critical). Never more than a class's droppable bytes: leased rows stay, so a class may remain
 * over budget until the forwarder releases or removes them.
 */
export function bytesToDrop(usage: Readonly<Record<RelayClass, ClassUsage>>, budgets: ClassBudgets): Record<RelayClass, number> {
  const drop = { critical: 0, operational: 0, telemetry: 0 } as Record<RelayClass, number>;
  let total = 0;
  for (const relayClass of RELAY_CLASSES) {
    const { bytes, droppableBytes } = usage[relayClass];
    drop[relayClass] = Math.min(Math.max(0, bytes - budgets.perClass[relayClass]), droppableBytes);
    total += bytes - drop[relayClass];
  }
  for (let i = RELAY_CLASSES.length - 1; i >= 0 && total > budgets.totalBytes; i--) {
    const relayClass = RELAY_CLASSES[i] as RelayClass;
    const more = Math.min(total - budgets.totalBytes, usage[relayClass].droppableBytes - drop[relayClass]);
    drop[relayClass] += more;
    total -= more;
  }
  return drop;
}

export type DropCandidate = { seq: number; bytes: number; createdAt: number };

/**
 * Takes candidates (oldest first) until at least `needBytes` are freed, skipping leased ones. Returns how many bytes
 * the picked rows free; fewer than asked when the candidates ran out (the caller reads the next page).
 */
export function pickOldest(
  candidates: readonly DropCandidate[],
  isLeased: (seq: number) => boolean,
  needBytes: number,
  into: DropCandidate[],
): number {
  let freed = 0;
  for (const candidate of candidates) {
    if (freed >= needBytes) break;
    if (isLeased(candidate.seq)) continue;
    into.push(candidate);
    freed += candidate.bytes;
  }
  return freed;
}

export type DropTally = { count: number; firstAt: number | null; lastAt: number | null };

export function emptyTally(): DropTally {
  return { count: 0, firstAt: null, lastAt: null };
}

/** Adds `other` into `tally` (the first/last times of the dropped events' createdAt). */
export function addTally(tally: DropTally, other: DropTally): DropTally {
  if (other.count === 0) return tally;
  return {
    count: tally.count + other.count,
    firstAt: tally.firstAt === null || (other.firstAt !== null && other.firstAt < tally.firstAt) ? other.firstAt : tally.firstAt,
    lastAt: tally.lastAt === null || (other.lastAt !== null && other.lastAt > tally.lastAt) ? other.lastAt : tally.lastAt,
  };
}

export function tallyOf(rows: readonly DropCandidate[]): DropTally {
  let tally = emptyTally();
  for (const row of rows) tally = addTally(tally, { count: 1, firstAt: row.createdAt, lastAt: row.createdAt });
  return tally;
}

/**
 * An exponentially decaying append rate (bytes/s) with time constant `tauS`: each sample adds `bytes / tauS` and the
 * rate decays by e^(-dt/tau) in between — a steady rate r converges to r, bursts fade over a few tau. No window of
 * samples is kept; time is a parameter.
 */
export type AppendRate = { bytesPerS: number; at: number };

export function addToRate(rate: AppendRate, bytes: number, now: number, tauS: number): AppendRate {
  return { bytesPerS: rateAt(rate, now, tauS) + bytes / tauS, at: Math.max(now, rate.at) };
}

export function rateAt(rate: AppendRate, now: number, tauS: number): number {
  const dtS = Math.max(0, now - rate.at) / 1000;
  return rate.bytesPerS * Math.exp(-dtS / tauS);
}

/** Seconds until `bytes` reaches `budgetBytes` at `bytesPerS` without draining; null when not growing. */
export function forecastFullInS(budgetBytes: number, bytes: number, bytesPerS: number): number | null {
  if (!(bytesPerS > 1e-9)) return null;
  return Math.max(0, (budgetBytes - bytes) / bytesPerS);
}
