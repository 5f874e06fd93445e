/**
 * Which price each label should show and which it has confirmed, versioned per label — across campaigns. Pure data
 * and functions (no I/O, time as a parameter); the campaign machine (campaign.ts) is its only writer.
 *
 * Versions only grow per label. A driver outcome names the version it is about, so a late ack of an old version can
 * never confirm a newer one: it can only record that the label shows the old content, which is the truth.
 */

/** One price for one label at one version. */
export type LabelPriceContent = { version: number; sku: string; priceCents: number; campaignId: string };

export type LabelPriceRecord = {
  labelId: string;
  /** the last version issued for this label */
  version: number;
  /** what a campaign is still trying to put on the label; absent when nothing is under way */
  target?: LabelPriceContent;
  /** the one version handed to the driver and not yet answered (at most one command in flight per label) */
  inFlight?: LabelPriceContent & { attempt: number; sentAt: number };
  /** the last version handed to the driver, kept after its answer timed out: its late ack is still the truth */
  lastSent?: LabelPriceContent;
  /** what the label has shown last, as it confirmed it */
  confirmed?: LabelPriceContent & { at: number };
};

/** Plain data: JSON round-trips it (a resumed gateway reads it back). */
export type LabelPriceBook = { records: Record<string, LabelPriceRecord> };

/**
 * A copy of a record that shares no object with it: what a flush writes while the machine goes on changing the book.
 * By hand rather than a JSON round trip (a 50,000-label campaign flushes every record: the round trip was a tenth of
 * its CPU); every field of LabelPriceRecord is a number, a string or one flat LabelPriceContent.
 */
export function copyPriceRecord(record: LabelPriceRecord): LabelPriceRecord {
  const copy: LabelPriceRecord = { ...record };
  if (record.target) copy.target = { ...record.target };
  if (record.inFlight) copy.inFlight = { ...record.inFlight };
  if (record.lastSent) copy.lastSent = { ...record.lastSent };
  if (record.confirmed) copy.confirmed = { ...record.confirmed };
  return copy;
}

export function emptyPriceBook(): LabelPriceBook {
  return { records: {} };
}

export function priceRecordOf(book: LabelPriceBook, labelId: string): LabelPriceRecord | undefined {
  return Object.hasOwn(book.records, labelId) ? book.records[labelId] : undefined;
}

function recordFor(book: LabelPriceBook, labelId: string): LabelPriceRecord {
  const existing = priceRecordOf(book, labelId);
  if (existing) return existing;
  const created: LabelPriceRecord = { labelId, version: 0 };
  book.records[labelId] = created;
  return created;
}

/**
 * Issues the next version of a label with this price and makes it the target; returns it and the target it replaced
 * (still in flight or queued — the caller supersedes it). Updates `book` in place (see campaign.ts for why).
 */
export function issueVersion(
  book: LabelPriceBook,
  labelId: string,
  price: { sku: string; priceCents: number; campaignId: string },
): { content: LabelPriceContent; replaced: LabelPriceContent | undefined } {
  const record = recordFor(book, labelId);
  const replaced = record.target;
  record.version += 1;
  const content: LabelPriceContent = { version: record.version, ...price };
  record.target = content;
  return { content, replaced };
}

/** Whether the label already shows exactly this content (OEPL skips identical renders, so sending it proves nothing). */
export function showsAlready(record: LabelPriceRecord | undefined, sku: string, priceCents: number): boolean {
  return record?.confirmed !== undefined && record.confirmed.sku === sku && record.confirmed.priceCents === priceCents;
}

/** The price the label should show now: the one under way, else the one it confirmed. */
export function shouldShow(record: LabelPriceRecord | undefined): LabelPriceContent | undefined {
  return record?.target ?? record?.confirmed;
}

/** The version is on the radio now: at most one per label, so the caller checks `inFlight` first. */
export function markSent(book: LabelPriceBook, labelId: string, content: LabelPriceContent, attempt: number, now: number): void {
  const record = recordFor(book, labelId);
  record.inFlight = { ...content, attempt, sentAt: now };
  record.lastSent = content;
}

/** The driver answered (or stopped answering) for `version`: the label is free for the next command. */
export function settleInFlight(book: LabelPriceBook, labelId: string, version: number): boolean {
  const record = priceRecordOf(book, labelId);
  if (record?.inFlight?.version !== version) return false;
  delete record.inFlight;
  return true;
}

/**
 * The label reported showing `version`. Returns the content it now shows, or undefined when the report says nothing
 * new: a duplicate, an ack older than what it confirmed already, or a version whose content we no longer know.
 */
export function recordShown(book: LabelPriceBook, labelId: string, version: number, now: number): LabelPriceContent | undefined {
  const record = priceRecordOf(book, labelId);
  if (!record) return undefined;
  if (record.confirmed && version <= record.confirmed.version) return undefined;
  const content = [record.inFlight, record.lastSent, record.target].find((known) => known?.version === version);
  if (!content) return undefined;
  const shown: LabelPriceContent = {
    version: content.version,
    sku: content.sku,
    priceCents: content.priceCents,
    campaignId: content.campaignId,
  };
  record.confirmed = { ...shown, at: now };
  settleInFlight(book, labelId, version);
  if (record.target?.version === version) delete record.target;
  return shown;
}

/** Nothing is under way for the label any more at `version` (it failed for good, or its campaign stopped it). */
export function dropTarget(book: LabelPriceBook, labelId: string, version: number): void {
  const record = priceRecordOf(book, labelId);
  if (record?.target?.version === version) delete record.target;
}

/**
 * Forgets a label that is no longer bound (the price book is bounded by the labels it tracks). Refused — false — while a
 * version is under way or on the radio: its answer must still find the record.
 */
export function forgetLabel(book: LabelPriceBook, labelId: string): boolean {
  const record = priceRecordOf(book, labelId);
  if (!record) return true;
  if (record.target || record.inFlight) return false;
  delete book.records[labelId];
  return true;
}
