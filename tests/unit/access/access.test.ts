import { describe, expect, it } from 'vitest';
import { newApiToken, tokenDigest } from '../../../edge/access/api-token.js';
import { AuthFailureLimiter } from '../../../edge/access/auth-failure-limiter.js';
import { ROLES, roleAllows } from '../../../edge/http/roles.js';
import { StreamTickets } from '../../../edge/access/stream-tickets.js';
import { TokenRegistry } from '../../../edge/access/token-registry.js';
import type { TokenStore } from '../../../edge/access/token-store.js';
import { pino } from 'pino';

describe('roles', () => {
  it('each role includes the ones before it and nothing after', () => {
    const table = ROLES.map((have) => ROLES.map((need) => (roleAllows(have, need) ? 'y' : '-')).join(''));
    expect(table).toEqual(['y---', 'yy--', 'yyy-', 'yyyy']);
  });
});

describe('api tokens', () => {
  it('are 256 random bits behind a recognisable prefix; only the digest is kept', () => {
    const tokens = new Set(Array.from({ length: 1_000 }, newApiToken));
    expect(tokens.size).toBe(1_000);
    const token = [...tokens][0] as string;
    expect(token).toMatch(/^sst_[A-Za-z0-9_-]{43}$/);
    expect(tokenDigest(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(tokenDigest(token)).not.toContain(token.slice(4, 12));
  });
});

describe('stream tickets', () => {
  const vic = { name: 'vic', role: 'viewer' as const, tokenId: 'digest-of-vic' };
  const val = { name: 'val', role: 'viewer' as const, tokenId: 'digest-of-val' };

  it('redeem once, within the ttl', () => {
    let now = 1_000;
    const tickets = new StreamTickets({ ttlMs: 30_000, maxOutstanding: 10 }, () => now);
    const a = tickets.issue(vic);
    expect(a.expiresAt).toBe(31_000);
    expect(tickets.redeem(a.ticket)).toEqual(vic);
    expect(tickets.redeem(a.ticket)).toBeUndefined();
    const b = tickets.issue(vic);
    now = 31_001;
    expect(tickets.redeem(b.ticket)).toBeUndefined();
    expect(tickets.redeem('made-up')).toBeUndefined();
  });

  it('holds at most maxOutstanding: the oldest gives way', () => {
    const tickets = new StreamTickets({ ttlMs: 30_000, maxOutstanding: 3 }, () => 0);
    const issued = Array.from({ length: 4 }, () => tickets.issue(vic).ticket);
    expect(tickets.redeem(issued[0] as string)).toBeUndefined();
    for (const ticket of issued.slice(1)) expect(tickets.redeem(ticket)).toEqual(vic);
  });

  it("a revoked token's unused tickets are void; other tokens' tickets still work", () => {
    const tickets = new StreamTickets({ ttlMs: 30_000, maxOutstanding: 10 }, () => 0);
    const ofVic = [tickets.issue(vic).ticket, tickets.issue(vic).ticket];
    const ofVal = tickets.issue(val).ticket;
    tickets.voidTokens(new Set([vic.tokenId]));
    for (const ticket of ofVic) expect(tickets.redeem(ticket)).toBeUndefined();
    expect(tickets.redeem(ofVal)).toEqual(val);
  });
});

describe('token registry', () => {
  it('reports the tokens a reload no longer finds, by digest (a name re-added after a revoke is another token)', async () => {
    const first = { name: 'maria', role: 'staff' as const, digest: tokenDigest('sst_first'), createdAt: 0, revokedAt: null };
    const other = { name: 'wall', role: 'viewer' as const, digest: tokenDigest('sst_wall'), createdAt: 0, revokedAt: null };
    let active = [first, other];
    let version = 1;
    const store = { active: async () => active, dataVersion: async () => version } as unknown as TokenStore;
    const revoked: string[][] = [];
    const registry = new TokenRegistry({
      store,
      configToken: null,
      log: pino({ level: 'silent' }),
      onRevoked: (ids) => revoked.push([...ids]),
    });
    await registry.load();
    expect(registry.verify('sst_first')).toEqual({ name: 'maria', role: 'staff', tokenId: first.digest });
    // maria revoked and a new token named maria added between two syncs
    active = [{ ...first, digest: tokenDigest('sst_second') }, other];
    version = 2;
    await registry.syncWithStore();
    expect(revoked).toEqual([[first.digest]]);
    expect(registry.verify('sst_first')).toBeUndefined();
    expect(registry.verify('sst_second')).toMatchObject({ name: 'maria' });
    await registry.syncWithStore(); // nothing changed: nothing reported
    expect(revoked).toHaveLength(1);
  });
});

describe('failed authentications per address', () => {
  it('blocks an address after maxPerMinute failures, and only that address', async () => {
    const limiter = new AuthFailureLimiter(3);
    for (let i = 0; i < 3; i++) {
      expect(await limiter.blockedFor('10.0.0.1')).toBe(0);
      await limiter.recordFailure('10.0.0.1');
    }
    expect(await limiter.blockedFor('10.0.0.1')).toBeGreaterThan(0);
    expect(await limiter.blockedFor('10.0.0.1')).toBeLessThanOrEqual(60);
    expect(await limiter.blockedFor('10.0.0.2')).toBe(0);
  });

  it('counts a sliding minute: Retry-After is the time until the oldest counted failure is a minute old', async () => {
    const clock = { now: 1_000_000 };
    const limiter = new AuthFailureLimiter(2, () => clock.now);
    await limiter.recordFailure('10.0.0.1');
    clock.now += 45_000;
    await limiter.recordFailure('10.0.0.1');
    clock.now += 5_000;
    expect(await limiter.blockedFor('10.0.0.1')).toBe(10);
    clock.now += 9_999;
    expect(await limiter.blockedFor('10.0.0.1')).toBe(1);
    clock.now += 1;
    expect(await limiter.blockedFor('10.0.0.1')).toBe(0);
    // the second failure still counts: one more blocks the address again, until the second is a minute old
    await limiter.recordFailure('10.0.0.1');
    expect(await limiter.blockedFor('10.0.0.1')).toBe(45);
  });
});
