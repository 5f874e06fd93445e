/**
 * Customer data at the edge (pure). Kiosk events may carry a loyalty id or a payment reference: they are replaced by a
 * keyed pseudonym (HMAC-SHA-256 with the store's secret) before anything stores, streams or relays them — the same
 * customer keeps the same pseudonym within the store, and nobody without the key can go back. Anything that looks like
 * a card number (13–19 digits passing the Luhn check, spaces or dashes allowed between them) is never kept: it is
 * masked to its last four digits wherever it appears in the event.
 */
import { createHmac } from 'node:crypto';

/** 13–19 digits, each optionally preceded by one space or dash (card numbers are written in groups). */
const DIGIT_RUN = /\d(?:[ -]?\d){12,18}/g;
const PSEUDONYM_PREFIX = 'psn_';

export function luhnValid(digits: string): boolean {
  if (!/^\d{13,19}$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/** What a masked card number looks like: its last four digits only. */
export function maskedCard(digits: string): string {
  return `**** ${digits.slice(-4)}`;
}

/** Every card-number-looking run in `text` masked; other text unchanged. */
export function maskCardNumbers(text: string): string {
  if (text.length < 13) return text;
  return text.replace(DIGIT_RUN, (run) => {
    const digits = run.replace(/[ -]/g, '');
    return luhnValid(digits) ? maskedCard(digits) : run;
  });
}

export function looksLikeCardNumber(text: string): boolean {
  return maskCardNumbers(text) !== text;
}

/** Keyed pseudonyms: the same input and key give the same pseudonym; without the key it cannot be reversed or checked. */
export class Pseudonymizer {
  constructor(private readonly key: Buffer) {
    if (key.length < 32) throw new Error(`pseudonym key has ${key.length} bytes; at least 32 are needed`);
  }

  pseudonym(value: string): string {
    return PSEUDONYM_PREFIX + createHmac('sha256', this.key).update(value, 'utf8').digest('hex').slice(0, 32);
  }
}

/** The customer-data fields of a kiosk event and every other string in it (free text may carry a card number). */
export type KioskEventFields = { loyaltyId?: string; paymentRef?: string; [field: string]: unknown };

/** Product codes: matched against the planogram downstream; about one EAN-13 in ten passes the Luhn check too. */
const PRODUCT_CODE_FIELDS = new Set(['sku']);

/**
 * The event as the gateway keeps it: loyalty id pseudonymised; payment reference masked when it is a card number,
 * pseudonymised otherwise; card numbers in any other string but product codes masked. A new object; the input is not
 * changed.
 */
export function protectKioskEvent<T extends KioskEventFields>(event: T, pseudonyms: Pseudonymizer): T {
  const out: KioskEventFields = {};
  for (const [field, value] of Object.entries(event)) {
    if (typeof value !== 'string' || PRODUCT_CODE_FIELDS.has(field)) out[field] = value;
    else if (field === 'loyaltyId') out[field] = pseudonyms.pseudonym(value);
    else if (field === 'paymentRef') out[field] = looksLikeCardNumber(value) ? maskCardNumbers(value) : pseudonyms.pseudonym(value);
    else out[field] = maskCardNumbers(value);
  }
  return out as T;
}
