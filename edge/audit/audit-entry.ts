/**
 * The audit trail's entries and their hash chain. Pure: time comes in as `at`, nothing here touches storage.
 *
 * Each entry's `hash` is SHA-256 over the canonical encoding of the entry (seq, at, actor, action, subject, details)
 * together with the previous entry's hash (`prevHash`; the first entry's is GENESIS_HASH). Changing any field of any
 * entry, removing one or reordering them changes a hash that a later check recomputes.
 */
import { createHash } from 'node:crypto';

/** The `prevHash` of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };
export type JsonObject = { readonly [key: string]: JsonValue };

/** What is to be recorded: who did what to which thing, when. `actor` is a token name, an OPC UA user, 'system' or 'cli:<os user>'. */
export type AuditRecord = {
  at: number;
  actor: string;
  /** `<domain>.<past tense>`, e.g. `alert.acknowledged`, `device.secret-rotated`, `token.revoked` */
  action: string;
  /** the id of what was acted on: an alert id, a device id, a token name */
  subject: string;
  details: JsonObject;
};

/** One entry of the chain as stored. */
export type AuditEntry = AuditRecord & { seq: number; prevHash: string; hash: string };

/** The end of the chain a new entry links to. */
export type ChainHead = { seq: number; hash: string };

export class CanonicalJsonError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`cannot encode ${path || 'value'} canonically: ${problem}`);
    this.name = 'CanonicalJsonError';
  }
}

/**
 * JSON with object keys sorted and no whitespace — the JSON Canonicalization Scheme (RFC 8785) for the values audit
 * entries hold: RFC 8785 sorts keys by UTF-16 code units (JavaScript's default string order) and writes strings and
 * numbers exactly as ECMAScript's JSON.stringify does, so those two rules are all it takes. Written here rather than
 * taken from the `canonicalize` package: it is ten lines, and the chain must not change meaning with a dependency's
 * release. Refuses what JSON cannot say (undefined, NaN, Infinity, functions) instead of silently dropping it.
 */
export function canonicalJson(value: JsonValue, path = ''): string {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new CanonicalJsonError(path, `${value} is not a JSON number`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value))
    return `[${(value as readonly JsonValue[]).map((item, index) => canonicalJson(item, `${path}[${index}]`)).join(',')}]`;
  if (typeof value === 'object') {
    // a Date, Map or class instance would encode as {} or lose fields: only plain objects are JSON objects
    const prototype = Object.getPrototypeOf(value) as unknown;
    if (prototype !== Object.prototype && prototype !== null)
      throw new CanonicalJsonError(path, `${(value as object).constructor?.name ?? 'object'} is not a plain JSON object`);
    const object = value as { readonly [key: string]: JsonValue };
    const keys = Object.keys(object).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(object[key] as JsonValue, `${path}.${key}`)}`).join(',')}}`;
  }
  throw new CanonicalJsonError(path, `${typeof value} is not JSON`);
}

/** The hash of an entry: over its canonical encoding with the previous hash, hex. */
export function entryHash(entry: Omit<AuditEntry, 'hash'>): string {
  const { seq, at, actor, action, subject, details, prevHash } = entry;
  return createHash('sha256').update(canonicalJson({ seq, at, actor, action, subject, details, prevHash })).digest('hex');
}

/** The entry that follows `head` (the first one when there is no head). */
export function chainEntry(head: ChainHead | undefined, record: AuditRecord): AuditEntry {
  const linked = { ...record, seq: (head?.seq ?? 0) + 1, prevHash: head?.hash ?? GENESIS_HASH };
  return { ...linked, hash: entryHash(linked) };
}

/** Entries following `head`, in order. */
export function chainEntries(head: ChainHead | undefined, records: readonly AuditRecord[]): AuditEntry[] {
  const entries: AuditEntry[] = [];
  let last = head;
  for (const record of records) {
    const entry = chainEntry(last, record);
    entries.push(entry);
    last = entry;
  }
  return entries;
}

export type ChainProblem = 'seq-gap' | 'prev-hash-mismatch' | 'hash-mismatch';

/** The first place the chain does not hold, and what differs there. */
export type ChainBreak = { seq: number; problem: ChainProblem; expected: string; found: string; message: string };

/**
 * Checks one entry against the one before it (undefined for the first): its seq follows, it names the previous hash,
 * and its own hash is what its fields give. Returns the break, or undefined when the link holds. A deleted entry shows
 * as a gap; an edited one as a hash mismatch (or, if its hash was recomputed too, as the next entry's prev-hash mismatch).
 */
export function checkLink(previous: ChainHead | undefined, entry: AuditEntry): ChainBreak | undefined {
  const expectedSeq = (previous?.seq ?? 0) + 1;
  if (entry.seq !== expectedSeq) {
    const missing =
      entry.seq > expectedSeq
        ? ` (entr${entry.seq - expectedSeq === 1 ? 'y' : 'ies'} ${expectedSeq}` +
          `${entry.seq - expectedSeq > 1 ? `–${entry.seq - 1}` : ''} missing)`
        : '';
    return broken(
      entry.seq,
      'seq-gap',
      String(expectedSeq),
      String(entry.seq),
      `entry ${entry.seq}: seq gap, expected ${expectedSeq}${missing}`,
    );
  }
  const expectedPrev = previous?.hash ?? GENESIS_HASH;
  if (entry.prevHash !== expectedPrev) {
    return broken(
      entry.seq,
      'prev-hash-mismatch',
      expectedPrev,
      entry.prevHash,
      `entry ${entry.seq}: prev-hash mismatch, entry ${expectedSeq - 1 || 'genesis'} hashes to ${expectedPrev}, ` +
        `the entry names ${entry.prevHash}`,
    );
  }
  let recomputed: string;
  try {
    recomputed = entryHash(entry);
  } catch (error) {
    return broken(entry.seq, 'hash-mismatch', entry.hash, 'unencodable', `entry ${entry.seq}: hash mismatch, ${(error as Error).message}`);
  }
  if (recomputed !== entry.hash) {
    return broken(
      entry.seq,
      'hash-mismatch',
      recomputed,
      entry.hash,
      `entry ${entry.seq}: hash mismatch, its fields hash to ${recomputed}, stored ${entry.hash}`,
    );
  }
  return undefined;
}

/** Checks a whole chain in memory: the first break, or how many entries and the last hash. */
export function verifyEntries(
  entries: Iterable<AuditEntry>,
): { ok: true; count: number; head: ChainHead | undefined } | { ok: false; count: number; broken: ChainBreak } {
  let head: ChainHead | undefined;
  let count = 0;
  for (const entry of entries) {
    const problem = checkLink(head, entry);
    if (problem) return { ok: false, count, broken: problem };
    head = { seq: entry.seq, hash: entry.hash };
    count++;
  }
  return { ok: true, count, head };
}

function broken(seq: number, problem: ChainProblem, expected: string, found: string, message: string): ChainBreak {
  return { seq, problem, expected, found, message };
}
