// What the Labels view says about a label, pure (tests/unit/staff-page/label-model.test.ts): the problem and its reason
// in words, the battery, the driver by the name store IT gave it, the prices side by side, and the access points whose
// firmware is too old. The rule of what is a problem is the server's (edge/labels/label-problems.ts).
import { LABEL_PROBLEMS, labelFailure, needsAttention, type LabelProblem } from '../../../../../edge/labels/label-problems.js';
import type { LabelDriverSummary, LabelView } from '../../../../../edge/labels/label-routes.js';

export type { LabelDriverSummary, LabelView };
/** GET /api/labels, as the view reads it. */
export type LabelPage = {
  labels: LabelView[];
  truncated: boolean;
  total: number;
  counts: Record<LabelProblem, number>;
  drivers: LabelDriverSummary[];
};

export const PROBLEM_WORDS: Record<LabelProblem, string> = {
  failed: 'Failed',
  offline: 'Offline',
  'never-seen': 'Never seen',
  'battery-low': 'Battery low',
  'price-pending': 'Price on its way',
  ok: 'OK',
};

/** The problems a person must act on, worst first (the "problems only" filter keeps these). */
export const ATTENTION_PROBLEMS: readonly LabelProblem[] = LABEL_PROBLEMS.filter(needsAttention);

/** "4 labels: 1 failed, 1 never seen", or "…: all fine". */
export function countsWords(counts: Record<LabelProblem, number>, plural: (n: number, word: string) => string): string {
  const all = LABEL_PROBLEMS.reduce((sum, problem) => sum + counts[problem], 0);
  const problems = ATTENTION_PROBLEMS.filter((problem) => counts[problem] > 0).map(
    (problem) => `${counts[problem]} ${PROBLEM_WORDS[problem].toLowerCase()}`,
  );
  return `${plural(all, 'label')}: ${problems.join(', ') || 'all fine'}`;
}

/** Below this a label's battery is called low even before the gateway's threshold says so (a hint, not an alert). */
const BATTERY_WORDS_MV = { full: 2_900, low: 2_500 };

/** `oepl:<name>` is the OpenEPaperLink access point `<name>`; `mqtt-ap:<id>` an MQTT access point; `mqtt-esl` direct. */
export function driverName(driverId: string | null): string {
  if (driverId === null) return 'No driver yet';
  if (driverId.startsWith('oepl:')) return `Access point ${driverId.slice('oepl:'.length)}`;
  if (driverId.startsWith('mqtt-ap:')) return `Access point ${driverId.slice('mqtt-ap:'.length)} (MQTT)`;
  if (driverId === 'mqtt-esl') return 'Direct (MQTT)';
  return `Label driver ${driverId}`;
}

/**
 * Why the label is where it is in the list, in words; null for a label that is fine. `money` formats cents in the
 * store's currency (format.ts formatMoney), `age` a time as "5 min ago".
 */
export function problemReason(label: LabelView, money: (cents: number) => string, age: (at: number) => string): string | null {
  switch (label.problem) {
    case 'failed': {
      if (labelFailure(label) === 'driver-link') {
        return `${driverName(label.driverId)} cannot reach it: ${label.driverLinkDetail ?? 'its link is down'}`;
      }
      const shown = label.displayedPriceCents === null ? 'nothing' : money(label.displayedPriceCents);
      const confirmed = label.confirmedPriceCents === null ? 'nothing' : money(label.confirmedPriceCents);
      return `Shows ${shown}, but ${confirmed} was confirmed: send the price again`;
    }
    case 'offline':
      return label.lastSeenAt === null ? 'Not heard from since the gateway started' : `Not heard from since ${age(label.lastSeenAt)}`;
    case 'never-seen':
      return 'Bound to a shelf, but no driver has reported it yet';
    case 'battery-low':
      return `Battery low (${batteryWords(label.batteryMv)}): replace it soon`;
    case 'price-pending':
      return label.pendingPriceCents === null ? null : `Being sent ${money(label.pendingPriceCents)}`;
    case 'ok':
      return null;
  }
}

/** The campaign whose "send again" puts the confirmed price back on a label that shows another; null: none can. */
export function sendAgainCampaign(label: LabelView): string | null {
  return label.problem === 'failed' && labelFailure(label) === 'price-mismatch' ? label.confirmedCampaignId : null;
}

/** "2.95 V (good)", "unknown". */
export function batteryWords(batteryMv: number | null): string {
  if (batteryMv === null) return 'unknown';
  const volts = (batteryMv / 1000).toFixed(2);
  const level = batteryMv >= BATTERY_WORDS_MV.full ? 'good' : batteryMv >= BATTERY_WORDS_MV.low ? 'fair' : 'low';
  return `${volts} V (${level})`;
}

/** The prices a person compares: what the label shows, and what it confirmed when that differs (or is on its way). */
export function priceWords(label: LabelView, money: (cents: number) => string): { shown: string; confirmed: string | null } {
  const shown = label.displayedPriceCents === null ? 'Blank' : money(label.displayedPriceCents);
  const confirmed =
    label.confirmedPriceCents === null || label.confirmedPriceCents === label.displayedPriceCents ? null : money(label.confirmedPriceCents);
  return { shown, confirmed };
}

/** Where the label is: "shelf-a / facing 2", or "Not bound to a shelf". */
export function placeWords(label: Pick<LabelView, 'shelfId' | 'facing'>): string {
  return label.shelfId === null || label.facing === null ? 'Not bound to a shelf' : `${label.shelfId} / facing ${label.facing}`;
}

const UNSUPPORTED_FIRMWARE = /unsupported firmware/i;

/** The access points whose link is down because their firmware is too old, by id. */
export function unsupportedFirmwareDrivers(drivers: readonly LabelDriverSummary[]): LabelDriverSummary[] {
  return drivers.filter((driver) => driver.linkUp === false && driver.linkDetail !== null && UNSUPPORTED_FIRMWARE.test(driver.linkDetail));
}

/** "Access point oepl-ap-1: unsupported firmware 2.55 — OpenEPaperLink 2.60 or later needed (3 labels)". */
export function firmwareLine(driver: LabelDriverSummary, plural: (n: number, word: string) => string): string {
  const detail = (driver.linkDetail ?? '').replace(/^(unsupported firmware[^:]*): /i, '$1 — ');
  return `${driverName(driver.driverId).replace(/ \(MQTT\)$/, '')}: ${detail} (${plural(driver.labels, 'label')})`;
}

/** The filters the view keeps in its address (`#/labels?show=problems&driver=oepl:ap-1&page=2`). */
export type LabelFilter = { problemsOnly: boolean; driverId: string | null; page: number };

export function filterOf(query: URLSearchParams): LabelFilter {
  const page = Number(query.get('page') ?? '1');
  return {
    problemsOnly: query.get('show') === 'problems',
    driverId: query.get('driver') || null,
    page: Number.isInteger(page) && page >= 1 ? page : 1,
  };
}

export function queryOf(filter: LabelFilter): URLSearchParams {
  const query = new URLSearchParams();
  if (filter.problemsOnly) query.set('show', 'problems');
  if (filter.driverId) query.set('driver', filter.driverId);
  if (filter.page > 1) query.set('page', String(filter.page));
  return query;
}

/** The API address of one page of the list. */
export function labelsPath(filter: LabelFilter, pageSize: number): string {
  const query = new URLSearchParams({ offset: String((filter.page - 1) * pageSize), limit: String(pageSize) });
  if (filter.problemsOnly) query.set('problems', 'true');
  if (filter.driverId) query.set('driverId', filter.driverId);
  return `/api/labels?${query.toString()}`;
}
