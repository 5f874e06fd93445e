import { describe, expect, it } from 'vitest';
import { newApiToken, tokenDigest } from '../../../edge/access/api-token.js';
import { AuthFailureLimiter } from '../../../edge/access/auth-failure-limiter.js';
import { ROLES, roleAllows } from '../../../edge/http/roles.js';
import { StreamTickets } from '../../../edge/access/stream-tickets.js';

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
  const vic = { name: 'vic', role: 'viewer' as const };

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
});
