import { mkdtemp, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { looksLikeCardNumber, luhnValid, maskCardNumbers, protectKioskEvent, Pseudonymizer } from '../../../edge/privacy/customer-data.js';
import { loadOrCreatePseudonymKey } from '../../../edge/privacy/pseudonym-key.js';

const VISA = '4111111111111111';
const KEY = Buffer.alloc(32, 7);

describe('card numbers', () => {
  it('Luhn: valid test numbers pass, one changed digit fails, lengths outside 13–19 fail', () => {
    for (const number of [VISA, '5555555555554444', '378282246310005', '6011111111111117', '4222222222222'])
      expect(luhnValid(number), number).toBe(true);
    for (const number of ['4111111111111112', '1234567890123', '411111111111', '41111111111111111111'])
      expect(luhnValid(number), number).toBe(false);
  });

  it('masks every card-number-looking run to its last four digits, in groups too; leaves other numbers alone', () => {
    expect(maskCardNumbers(`card ${VISA} declined`)).toBe('card **** 1111 declined');
    expect(maskCardNumbers('4111 1111 1111 1111 and 5555-5555-5555-4444')).toBe('**** 1111 and **** 4444');
    expect(maskCardNumbers('basket 1234567890123 at 2026-12-01')).toBe('basket 1234567890123 at 2026-12-01');
    // an EAN-13 that happens to pass Luhn too looks like a card number in free text
    expect(maskCardNumbers('scanned 4000000000006')).toBe('scanned **** 0006');
    expect(looksLikeCardNumber('order 42')).toBe(false);
  });
});

describe('pseudonyms', () => {
  it('same input and key → same pseudonym; another key or input → another; the input is not in it', () => {
    const a = new Pseudonymizer(KEY);
    const b = new Pseudonymizer(Buffer.alloc(32, 8));
    expect(a.pseudonym('LOY-123456')).toBe(a.pseudonym('LOY-123456'));
    expect(a.pseudonym('LOY-123456')).toMatch(/^psn_[0-9a-f]{32}$/);
    expect(a.pseudonym('LOY-123456')).not.toBe(b.pseudonym('LOY-123456'));
    expect(a.pseudonym('LOY-123456')).not.toBe(a.pseudonym('LOY-123457'));
    expect(() => new Pseudonymizer(Buffer.alloc(16))).toThrow(/at least 32/);
  });

  it('kiosk event keeps its shape: loyalty id pseudonymised, card-number payment ref masked, other refs pseudonymised, text masked', () => {
    const pseudonyms = new Pseudonymizer(KEY);
    const event = {
      type: 'payment-failed',
      basketId: 'b-1',
      loyaltyId: 'LOY-123456',
      paymentRef: VISA,
      reason: `card ${VISA} declined`,
      ts: 5,
    };
    const kept = protectKioskEvent(event, pseudonyms);
    expect(kept).toEqual({
      type: 'payment-failed',
      basketId: 'b-1',
      loyaltyId: pseudonyms.pseudonym('LOY-123456'),
      paymentRef: '**** 1111',
      reason: 'card **** 1111 declined',
      ts: 5,
    });
    expect(event.loyaltyId).toBe('LOY-123456'); // the input is not changed
    expect(protectKioskEvent({ type: 'payment-succeeded', paymentRef: 'TX-98765', ts: 1 }, pseudonyms).paymentRef).toBe(
      pseudonyms.pseudonym('TX-98765'),
    );
    // a sku is a product code the stock pipeline matches to the planogram: an EAN-13 that passes Luhn stays as it is
    expect(protectKioskEvent({ type: 'item-scanned', sku: '4000000000006', ts: 1 }, pseudonyms).sku).toBe('4000000000006');
  });
});

describe('the pseudonym key file', () => {
  it('is made on first start with mode 600, read back the same afterwards, and refused when others may read it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'smartstore-pseudonym-'));
    try {
      const file = join(dir, 'sub', 'pseudonym.key');
      const first = await loadOrCreatePseudonymKey(file);
      expect(first.created).toBe(true);
      expect(first.key).toHaveLength(32);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      const again = await loadOrCreatePseudonymKey(file);
      expect(again).toEqual({ key: first.key, created: false });
      const open = join(dir, 'open.key');
      await writeFile(open, Buffer.alloc(32, 1));
      await chmod(open, 0o644);
      await expect(loadOrCreatePseudonymKey(open)).rejects.toThrow(/accessible to other users \(mode 644\)/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
