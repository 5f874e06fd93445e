/**
 * The pure rules of the OpenEPaperLink driver: what we upload for a price, when an upload counts as shown, what a
 * battery reading means, how an HTTP answer is read, how long to wait before reconnecting. Time is a parameter.
 */
import { jitteredBackoffMs } from '../core/backoff.js';
import type { LabelContent } from './label-driver.js';
import type { OeplTagRecord } from './oepl-messages.js';
import { oeplPriceLayout, type OeplCanvas } from './oepl-layout.js';

/**
 * The drawing-command array for `POST /jsonupload` (content mode 19: `[{"text":[x, y, text, font, color, …]}, …]`),
 * laid out for the tag's canvas (see oepl-layout.ts; default the common 2.9" tag, 296 × 128). The version is not
 * drawn, so the same price renders the same image.
 */
export function oeplPriceCommands(content: Pick<LabelContent, 'productName' | 'priceCents' | 'sku'>, canvas?: OeplCanvas): unknown[] {
  return oeplPriceLayout(content, formatPrice(content.priceCents), canvas);
}

/** Integer minor units as `12.34`; no floats touch money. */
export function formatPrice(priceCents: number): string {
  const sign = priceCents < 0 ? '-' : '';
  const cents = Math.abs(Math.trunc(priceCents));
  return `${sign}${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

/** What the AP stores for the tag; equal strings render equal images (the AP then skips the render). */
export function oeplContentKey(content: Pick<LabelContent, 'productName' | 'priceCents' | 'sku'>, canvas?: OeplCanvas): string {
  return JSON.stringify(oeplPriceCommands(content, canvas));
}

/** An upload the AP accepted: its time on the AP's clock and the tag's `updatecount` before it. */
export type OeplSubmission = { submittedAtApS: number; baselineUpdateCount: number };

/**
 * Confirmed = a record for the tag with `updatecount` above the count before our upload, `updatelast` at or after our
 * submit time and nothing pending. `hash` is of the rendered image and cannot be predicted, so it is not compared.
 */
export function confirmsSubmission(submission: OeplSubmission, record: OeplTagRecord): boolean {
  return record.updatecount > submission.baselineUpdateCount && record.updatelast >= submission.submittedAtApS && record.pending === 0;
}

/** The tag checked in after our upload (so "waiting" no longer applies). */
export function seenSinceSubmission(submission: OeplSubmission, record: OeplTagRecord | undefined): boolean {
  return record !== undefined && record.lastseen >= submission.submittedAtApS;
}

/**
 * The AP reports 0 for "unknown" and 1337 for a virtual tag (no battery); both are `null` to us, so neither raises a
 * low-battery alert. `lowPerAp` is the AP's own count rule (below 2400 mV); the labels room applies its own threshold.
 */
export type OeplBattery = { batteryMv: number | null; source: 'unknown' | 'virtual' | 'measured'; lowPerAp: boolean };
export const OEPL_VIRTUAL_TAG_MV = 1337;
export const OEPL_LOW_BATTERY_MV = 2400;

export function oeplBattery(batteryMv: number): OeplBattery {
  if (batteryMv === 0) return { batteryMv: null, source: 'unknown', lowPerAp: false };
  if (batteryMv === OEPL_VIRTUAL_TAG_MV) return { batteryMv: null, source: 'virtual', lowPerAp: false };
  return { batteryMv, source: 'measured', lowPerAp: batteryMv < OEPL_LOW_BATTERY_MV };
}

/** How `POST /jsonupload` answered (`doJsonUpload` in web.cpp). */
export type OeplUploadAnswer =
  | { kind: 'stored' }
  | { kind: 'busy' }
  | { kind: 'mac-not-found' }
  | { kind: 'unexpected'; status: number; body: string; retryable: boolean };

export function classifyUploadAnswer(status: number, body: string): OeplUploadAnswer {
  const text = body.trim();
  if (status === 200 && text === 'Ok, saved') return { kind: 'stored' };
  if (status === 409) return { kind: 'busy' };
  if (status === 400 && /mac not found/i.test(text)) return { kind: 'mac-not-found' };
  // any other 4xx means we sent something the AP will never take; 5xx or a 200 we do not know may pass on a retry
  return { kind: 'unexpected', status, body: text.slice(0, 120), retryable: !(status >= 400 && status < 500) };
}

/**
 * The driver's backoff (reconnects, busy and unreachable retries): doubling from `initialMs` up to `maxMs`, attempt
 * 0-based, equal jitter (between half the step and the step), so many gateways do not reconnect in lockstep. The ceiling
 * is `maxMs` alone: the step no longer stops doubling at attempt 20 (which mattered only for a `maxMs` above 2^20 × `initialMs`).
 */
export function backoffDelayMs(attempt: number, initialMs: number, maxMs: number, random: () => number): number {
  return jitteredBackoffMs({ baseMs: initialMs, maxMs, factor: 2, jitter: 0.5 }, attempt, random);
}

/**
 * The firmware this driver can drive: `updatecount`/`updatelast` in tag records, which confirmation rests on, came with
 * release 2.60 (OpenEPaperLink commit 59e2a5ee, 2024-03-18, tag_db.cpp `fillNode`).
 */
export const OEPL_MIN_FIRMWARE = { major: 2, minor: 60 } as const;
export const OEPL_SUPPORTED_FIRMWARE_TEXT = 'OpenEPaperLink 2.60 or later';

/**
 * `buildversion` from `GET /sysinfo` (ota.cpp:38-48): the release tag the AP was built from ("2.73", "v2.60"), or
 * "custom" for a local build (wifimanager.cpp:436-437). Unknown forms are not refused here: the tag records decide.
 */
export type OeplFirmware = { version: string; supported: boolean | undefined };

export function oeplFirmware(buildVersion: string): OeplFirmware {
  const version = buildVersion.slice(0, 32);
  const match = /^v?(\d+)\.(\d+)/.exec(version.trim());
  if (!match) return { version, supported: undefined };
  const [major, minor] = [Number(match[1]), Number(match[2])];
  return { version, supported: major > OEPL_MIN_FIRMWARE.major || (major === OEPL_MIN_FIRMWARE.major && minor >= OEPL_MIN_FIRMWARE.minor) };
}
