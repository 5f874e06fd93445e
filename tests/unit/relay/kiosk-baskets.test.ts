import { describe, expect, it } from 'vitest';
import { KioskBaskets } from '../../../edge/relay/kiosk-baskets.js';
import type { KioskEvent } from '../../../edge/device-registry/messages.js';

const limits = { maxOpenPerKiosk: 2, maxOpen: 3, staleAfterMs: 60_000, maxLines: 3 };
const ev = (type: KioskEvent['type'], extra: Partial<KioskEvent> = {}): KioskEvent => ({ type, ts: 0, ...extra });

describe('KioskBaskets', () => {
  it('assembles a closed basket: items, total, payment, complete', () => {
    const b = new KioskBaskets(limits);
    b.onEvent('k1', ev('basket-open', { basketId: 'b1' }), 1_000);
    b.onEvent('k1', ev('item-scanned', { basketId: 'b1', sku: 'A', qty: 2, priceCents: 189 }), 2_000);
    b.onEvent('k1', ev('item-scanned', { basketId: 'b1', sku: 'B', qty: 1, priceCents: 799 }), 3_000);
    b.onEvent('k1', ev('payment-succeeded', { basketId: 'b1' }), 4_000);
    const tx = b.onEvent('k1', ev('basket-closed', { basketId: 'b1' }), 5_000);
    expect(tx).toEqual({
      basketId: 'b1',
      kioskId: 'k1',
      items: [
        { sku: 'A', qty: 2, priceCents: 189 },
        { sku: 'B', qty: 1, priceCents: 799 },
      ],
      totalCents: 1_177,
      payment: 'succeeded',
      complete: true,
      openedAt: 1_000,
      closedAt: 5_000,
    });
    expect(b.openCount).toBe(0);
  });

  it('payment and close without basketId apply to the basket the kiosk works on', () => {
    const b = new KioskBaskets(limits);
    b.onEvent('k1', ev('basket-open', { basketId: 'b1' }), 0);
    b.onEvent('k1', ev('item-scanned', { basketId: 'b1', sku: 'A', qty: 1 }), 0);
    b.onEvent('k1', ev('payment-failed'), 0);
    expect(b.onEvent('k1', ev('basket-closed'), 0)).toMatchObject({
      basketId: 'b1',
      payment: 'failed',
      items: [{ sku: 'A', qty: 1, priceCents: null }],
      totalCents: 0,
    });
  });

  it('marks a basket whose opening was not seen incomplete, and an unknown close too', () => {
    const b = new KioskBaskets(limits);
    b.onEvent('k1', ev('item-scanned', { basketId: 'b9', sku: 'A', qty: 1, priceCents: 100 }), 0);
    expect(b.onEvent('k1', ev('basket-closed', { basketId: 'b9' }), 0)).toMatchObject({
      complete: false,
      payment: 'unknown',
      totalCents: 100,
    });
    expect(b.onEvent('k2', ev('basket-closed', { basketId: 'zz' }), 0)).toMatchObject({ basketId: 'zz', complete: false, items: [] });
  });

  it('bounds lines per basket (marked incomplete), baskets per kiosk and in total', () => {
    const b = new KioskBaskets(limits);
    b.onEvent('k1', ev('basket-open', { basketId: 'b1' }), 0);
    for (let i = 0; i < 5; i++) b.onEvent('k1', ev('item-scanned', { basketId: 'b1', sku: `S${i}`, qty: 1 }), 0);
    expect(b.onEvent('k1', ev('basket-closed', { basketId: 'b1' }), 0)).toMatchObject({ complete: false, items: { length: 3 } });
    for (const id of ['x', 'y', 'z']) b.onEvent('k1', ev('basket-open', { basketId: id }), 0);
    expect(b.openCount).toBe(2);
    expect(b.evicted).toBe(1);
    b.onEvent('k2', ev('basket-open', { basketId: 'q' }), 0);
    b.onEvent('k3', ev('basket-open', { basketId: 'r' }), 0);
    expect(b.openCount).toBe(3);
    // x was evicted: its close is reported incomplete
    expect(b.onEvent('k1', ev('basket-closed', { basketId: 'x' }), 0)).toMatchObject({ complete: false });
  });

  it('forgets baskets idle longer than staleAfterMs', () => {
    const b = new KioskBaskets(limits);
    b.onEvent('k1', ev('basket-open', { basketId: 'b1' }), 0);
    b.onEvent('k2', ev('basket-open', { basketId: 'b2' }), 50_000);
    b.sweep(70_000);
    expect(b.openCount).toBe(1);
    expect(b.evicted).toBe(1);
  });
});
