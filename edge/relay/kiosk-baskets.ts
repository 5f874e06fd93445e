/**
 * Assembles kiosk transactions for HQ from a kiosk's event stream: basket-open, item-scanned…, payment-succeeded or
 * payment-failed, basket-closed → one transaction with its items, total and payment result. Pure and bounded: time is a
 * parameter; at most `maxOpenPerKiosk` open baskets per kiosk and `maxOpen` in total (the least recently active is
 * evicted), baskets without activity for `staleAfterMs` are forgotten, at most `maxLines` lines per basket.
 * A basket closed without its basket-open (the gateway restarted mid-basket, or it was evicted) is reported
 * `complete: false`: HQ then knows the items may be a part.
 */
import type { KioskEvent } from '../device-registry/messages.js';

export type KioskBasketLimits = { maxOpenPerKiosk: number; maxOpen: number; staleAfterMs: number; maxLines: number };

export type PaymentResult = 'succeeded' | 'failed' | 'unknown';

export type KioskTransactionItem = { sku: string; qty: number; priceCents: number | null };

export type KioskTransaction = {
  basketId: string | null;
  kioskId: string;
  items: KioskTransactionItem[];
  /** sum of qty × price over the items with a price */
  totalCents: number;
  payment: PaymentResult;
  /** false when the basket's opening was not seen or lines were left out: the items may be a part */
  complete: boolean;
  openedAt: number | null;
  closedAt: number;
};

type Basket = {
  kioskId: string;
  basketId: string;
  items: KioskTransactionItem[];
  payment: PaymentResult;
  complete: boolean;
  openedAt: number | null;
  lastAt: number;
};

export class KioskBaskets {
  /** open baskets by `<kioskId>\0<basketId>`, least recently active first (touched baskets move to the end) */
  private readonly open = new Map<string, Basket>();
  /** the basket a kiosk works on now, for events that carry no basketId (payment, basket-closed) */
  private readonly current = new Map<string, string>();
  private readonly perKiosk = new Map<string, number>();
  /** baskets given up for the bounds or staleness */
  evicted = 0;

  constructor(private readonly limits: KioskBasketLimits) {}

  get openCount(): number {
    return this.open.size;
  }

  /** Feeds one kiosk event; returns the transaction when it closes a basket. */
  onEvent(kioskId: string, event: KioskEvent, now: number): KioskTransaction | undefined {
    this.sweep(now);
    switch (event.type) {
      case 'basket-open': {
        const basketId = event.basketId;
        if (basketId === undefined) return undefined;
        const existing = this.open.get(keyOf(kioskId, basketId));
        // a repeated basket-open (QoS 1 redelivery) keeps what was scanned
        if (existing) existing.complete = existing.complete || existing.items.length === 0;
        else this.create(kioskId, basketId, true, now);
        this.touch(kioskId, basketId, now);
        return undefined;
      }
      case 'item-scanned': {
        const basket = this.basketFor(kioskId, event.basketId, now);
        if (!basket || event.sku === undefined) return undefined;
        if (basket.items.length >= this.limits.maxLines) basket.complete = false;
        else basket.items.push({ sku: event.sku, qty: event.qty ?? 1, priceCents: event.priceCents ?? null });
        return undefined;
      }
      case 'payment-succeeded':
      case 'payment-failed': {
        const basket = this.basketFor(kioskId, event.basketId, now);
        if (basket) basket.payment = event.type === 'payment-succeeded' ? 'succeeded' : 'failed';
        return undefined;
      }
      case 'basket-closed': {
        const basketId = event.basketId ?? this.current.get(kioskId);
        const basket = basketId === undefined ? undefined : this.open.get(keyOf(kioskId, basketId));
        if (basket) this.remove(basket);
        return {
          basketId: basketId ?? null,
          kioskId,
          items: basket?.items ?? [],
          totalCents: totalOf(basket?.items ?? []),
          payment: basket?.payment ?? 'unknown',
          complete: basket?.complete ?? false,
          openedAt: basket?.openedAt ?? null,
          closedAt: now,
        };
      }
      default:
        // weight-mismatch, assist-requested: alerts, not part of the transaction; still activity on the basket
        if (event.basketId !== undefined && this.open.has(keyOf(kioskId, event.basketId))) this.touch(kioskId, event.basketId, now);
        return undefined;
    }
  }

  /** Forgets baskets idle for `staleAfterMs` (also done on every event). */
  sweep(now: number): void {
    for (const basket of this.open.values()) {
      if (now - basket.lastAt < this.limits.staleAfterMs) break; // ordered by activity: the rest are fresher
      this.remove(basket);
      this.evicted++;
    }
  }

  /** The basket an event belongs to; one seen first mid-way is created incomplete. */
  private basketFor(kioskId: string, basketId: string | undefined, now: number): Basket | undefined {
    const id = basketId ?? this.current.get(kioskId);
    if (id === undefined) return undefined;
    const basket = this.open.get(keyOf(kioskId, id)) ?? this.create(kioskId, id, false, now);
    this.touch(kioskId, id, now);
    return basket;
  }

  private create(kioskId: string, basketId: string, complete: boolean, now: number): Basket {
    if ((this.perKiosk.get(kioskId) ?? 0) >= this.limits.maxOpenPerKiosk) this.evictOldest(kioskId);
    if (this.open.size >= this.limits.maxOpen) this.evictOldest(undefined);
    const basket: Basket = { kioskId, basketId, items: [], payment: 'unknown', complete, openedAt: complete ? now : null, lastAt: now };
    this.open.set(keyOf(kioskId, basketId), basket);
    this.perKiosk.set(kioskId, (this.perKiosk.get(kioskId) ?? 0) + 1);
    return basket;
  }

  private touch(kioskId: string, basketId: string, now: number): void {
    const key = keyOf(kioskId, basketId);
    const basket = this.open.get(key);
    if (!basket) return;
    basket.lastAt = now;
    this.open.delete(key);
    this.open.set(key, basket);
    this.current.set(kioskId, basketId);
  }

  private evictOldest(kioskId: string | undefined): void {
    for (const basket of this.open.values()) {
      if (kioskId !== undefined && basket.kioskId !== kioskId) continue;
      this.remove(basket);
      this.evicted++;
      return;
    }
  }

  private remove(basket: Basket): void {
    this.open.delete(keyOf(basket.kioskId, basket.basketId));
    const left = (this.perKiosk.get(basket.kioskId) ?? 1) - 1;
    if (left > 0) this.perKiosk.set(basket.kioskId, left);
    else this.perKiosk.delete(basket.kioskId);
    if (this.current.get(basket.kioskId) === basket.basketId) this.current.delete(basket.kioskId);
  }
}

function keyOf(kioskId: string, basketId: string): string {
  return `${kioskId}\u0000${basketId}`;
}

function totalOf(items: readonly KioskTransactionItem[]): number {
  let total = 0;
  for (const item of items) if (item.priceCents !== null) total += item.qty * item.priceCents;
  return total;
}
