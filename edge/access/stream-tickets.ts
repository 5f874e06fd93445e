import { randomBytes } from 'node:crypto';
import type { Principal } from '../http/roles.js';

/**
 * One-time tickets for the live stream. A browser's EventSource cannot send an Authorization header, and a bearer
 * token in a URL ends up in proxies' and browsers' histories; so the page trades its token for a ticket (POST, with the
 * header) and opens the stream with `?ticket=`. A ticket works once, within `ttlMs`.
 */
export class StreamTickets {
  private readonly tickets = new Map<string, { principal: Principal; expiresAt: number }>();

  constructor(
    private readonly options: { ttlMs: number; maxOutstanding: number },
    private readonly now: () => number,
  ) {}

  issue(principal: Principal): { ticket: string; expiresAt: number } {
    this.sweep();
    // bounded: the oldest outstanding ticket gives way (Map keeps insertion order)
    if (this.tickets.size >= this.options.maxOutstanding) this.tickets.delete(this.tickets.keys().next().value as string);
    const ticket = randomBytes(24).toString('base64url');
    const expiresAt = this.now() + this.options.ttlMs;
    this.tickets.set(ticket, { principal, expiresAt });
    return { ticket, expiresAt };
  }

  /** The ticket's principal, once; undefined for an unknown, used or expired ticket. */
  redeem(ticket: string): Principal | undefined {
    const entry = this.tickets.get(ticket);
    if (!entry) return undefined;
    this.tickets.delete(ticket);
    return entry.expiresAt >= this.now() ? entry.principal : undefined;
  }

  /** Voids the unused tickets of revoked tokens: a ticket is worth no more than the token it was issued for. */
  voidTokens(tokenIds: ReadonlySet<string>): void {
    for (const [ticket, entry] of this.tickets) if (tokenIds.has(entry.principal.tokenId)) this.tickets.delete(ticket);
  }

  private sweep(): void {
    const now = this.now();
    for (const [ticket, entry] of this.tickets) if (entry.expiresAt < now) this.tickets.delete(ticket);
  }
}
