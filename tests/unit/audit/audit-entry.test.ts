import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  CanonicalJsonError,
  chainEntries,
  checkLink,
  entryHash,
  GENESIS_HASH,
  verifyEntries,
  type AuditEntry,
  type AuditRecord,
  type JsonValue,
} from '../../../edge/audit/audit-entry.js';

const record = (n: number, extra: Partial<AuditRecord> = {}): AuditRecord => ({
  at: 1_700_000_000_000 + n,
  actor: 'maria',
  action: 'alert.acknowledged',
  subject: `alert-${n}`,
  details: { kind: 'low-stock', shelfId: 'shelf-a', facing: n },
  ...extra,
});

describe('canonicalJson', () => {
  it('sorts keys at every depth and writes no whitespace, whatever order the keys came in', () => {
    const a = { b: 1, a: { y: [3, { d: true, c: null }], x: 'é"\n' } };
    const b = { a: { x: 'é"\n', y: [3, { c: null, d: true }] }, b: 1 };
    expect(canonicalJson(a)).toBe('{"a":{"x":"é\\"\\n","y":[3,{"c":null,"d":true}]},"b":1}');
    expect(canonicalJson(b)).toBe(canonicalJson(a));
  });

  it('orders keys by UTF-16 code units, as RFC 8785 does (uppercase before lowercase, digits first)', () => {
    expect(canonicalJson({ b: 1, B: 2, '1': 3, é: 4, a: 5 })).toBe('{"1":3,"B":2,"a":5,"b":1,"é":4}');
  });

  it('refuses what JSON cannot say instead of dropping it, naming where', () => {
    expect(() => canonicalJson({ a: { b: Number.NaN } })).toThrow(CanonicalJsonError);
    expect(() => canonicalJson({ a: { b: Number.NaN } })).toThrow('.a.b');
    expect(() => canonicalJson({ a: undefined } as unknown as JsonValue)).toThrow('undefined is not JSON');
    expect(() => canonicalJson({ at: new Date(0) } as unknown as JsonValue)).toThrow('Date is not a plain JSON object');
  });
});

describe('the hash chain', () => {
  it('the first entry links to genesis (64 zeros); each next one to the hash before it; seq counts from 1', () => {
    const [first, second] = chainEntries(undefined, [record(1), record(2)]) as [AuditEntry, AuditEntry];
    expect(GENESIS_HASH).toBe('0'.repeat(64));
    expect(first).toMatchObject({ seq: 1, prevHash: GENESIS_HASH });
    expect(second).toMatchObject({ seq: 2, prevHash: first.hash });
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('the hash is SHA-256 of the canonical entry with the previous hash (anyone can recompute it)', () => {
    const [entry] = chainEntries(undefined, [record(1)]) as [AuditEntry];
    const canonical =
      '{"action":"alert.acknowledged","actor":"maria","at":1700000000001,' +
      '"details":{"facing":1,"kind":"low-stock","shelfId":"shelf-a"},' +
      `"prevHash":"${GENESIS_HASH}","seq":1,"subject":"alert-1"}`;
    expect(entry.hash).toBe(createHash('sha256').update(canonical).digest('hex'));
  });

  it('is stable under the key order of details', () => {
    const [a] = chainEntries(undefined, [record(1, { details: { x: 1, y: { p: 'q', r: [1, 2] } } })]) as [AuditEntry];
    const [b] = chainEntries(undefined, [record(1, { details: { y: { r: [1, 2], p: 'q' }, x: 1 } })]) as [AuditEntry];
    expect(b.hash).toBe(a.hash);
  });

  it('any change of any field breaks the entry (hash mismatch, naming its seq)', () => {
    const entries = chainEntries(undefined, [record(1), record(2), record(3)]);
    const changes: Array<[string, (e: AuditEntry) => AuditEntry]> = [
      ['at', (e) => ({ ...e, at: e.at + 1 })],
      ['actor', (e) => ({ ...e, actor: 'mallory' })],
      ['action', (e) => ({ ...e, action: 'alert.resolved' })],
      ['subject', (e) => ({ ...e, subject: 'alert-9' })],
      ['details value', (e) => ({ ...e, details: { ...e.details, facing: 7 } })],
      ['details key added', (e) => ({ ...e, details: { ...e.details, note: '' } })],
      ['hash', (e) => ({ ...e, hash: e.hash.replace(/^./, (c) => (c === '0' ? '1' : '0')) })],
    ];
    for (const [what, change] of changes) {
      const tampered = entries.map((e) => (e.seq === 2 ? change(e) : e));
      const result = verifyEntries(tampered);
      expect(result.ok, what).toBe(false);
      if (!result.ok) expect(result.broken, what).toMatchObject({ seq: 2, problem: 'hash-mismatch' });
    }
    expect(verifyEntries(entries)).toEqual({ ok: true, count: 3, head: { seq: 3, hash: entries[2]?.hash } });
  });

  it('an entry edited with its hash recomputed breaks the next link (prev-hash mismatch)', () => {
    const entries = chainEntries(undefined, [record(1), record(2), record(3)]);
    const forged = { ...(entries[1] as AuditEntry), actor: 'mallory' };
    const reHashed = { ...forged, hash: entryHash(forged) };
    const result = verifyEntries([entries[0] as AuditEntry, reHashed, entries[2] as AuditEntry]);
    expect(result).toMatchObject({
      ok: false,
      count: 2,
      broken: { seq: 3, problem: 'prev-hash-mismatch', expected: reHashed.hash, found: entries[1]?.hash },
    });
  });

  it('a removed entry is a gap naming the missing seq; a removed first entry too', () => {
    const entries = chainEntries(undefined, [record(1), record(2), record(3), record(4)]);
    const middle = verifyEntries(entries.filter((e) => e.seq !== 2));
    expect(middle).toMatchObject({ ok: false, broken: { seq: 3, problem: 'seq-gap', expected: '2', found: '3' } });
    if (!middle.ok) expect(middle.broken.message).toContain('entry 2 missing');
    expect(verifyEntries(entries.slice(1))).toMatchObject({ ok: false, broken: { seq: 2, problem: 'seq-gap', expected: '1' } });
  });

  it('appending continues a chain from its head', () => {
    const first = chainEntries(undefined, [record(1), record(2)]);
    const head = { seq: 2, hash: (first[1] as AuditEntry).hash };
    const more = chainEntries(head, [record(3)]);
    expect(more[0]).toMatchObject({ seq: 3, prevHash: head.hash });
    expect(verifyEntries([...first, ...more]).ok).toBe(true);
    expect(checkLink(undefined, more[0] as AuditEntry)).toMatchObject({ problem: 'seq-gap' });
  });
});
