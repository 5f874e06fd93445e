import { describe, expect, it } from 'vitest';
import type { OeplTagRecord } from '../../../edge/labels/oepl-messages.js';
import {
  backoffDelayMs,
  classifyUploadAnswer,
  confirmsSubmission,
  formatPrice,
  oeplBattery,
  oeplContentKey,
  oeplFirmware,
  seenSinceSubmission,
} from '../../../edge/labels/oepl-rules.js';

const before: OeplTagRecord = {
  mac: '0000021D0B5A1234',
  hash: 'aa',
  lastseen: 1000,
  nextcheckin: 1060,
  pending: 0,
  batteryMv: 2900,
  updatecount: 7,
  updatelast: 900,
};
const submission = { submittedAtApS: 1010, baselineUpdateCount: 7 };

describe('confirmsSubmission', () => {
  it('needs updatecount above the baseline, updatelast at or after the submit and nothing pending', () => {
    expect(confirmsSubmission(submission, { ...before, updatecount: 8, updatelast: 1010, pending: 0 })).toBe(true);
    expect(confirmsSubmission(submission, { ...before, updatecount: 7, updatelast: 1020 })).toBe(false); // nothing transferred
    expect(confirmsSubmission(submission, { ...before, updatecount: 8, updatelast: 1009 })).toBe(false); // an older transfer
    expect(confirmsSubmission(submission, { ...before, updatecount: 8, updatelast: 1020, pending: 1 })).toBe(false); // more queued
  });

  it('tells whether the tag checked in after the upload', () => {
    expect(seenSinceSubmission(submission, { ...before, lastseen: 1009 })).toBe(false);
    expect(seenSinceSubmission(submission, { ...before, lastseen: 1010 })).toBe(true);
    expect(seenSinceSubmission(submission, undefined)).toBe(false);
  });
});

describe('oeplBattery', () => {
  it('reads 0 as unknown and 1337 as a virtual tag (no reading), below 2400 mV as low per the AP', () => {
    expect(oeplBattery(0)).toEqual({ batteryMv: null, source: 'unknown', lowPerAp: false });
    expect(oeplBattery(1337)).toEqual({ batteryMv: null, source: 'virtual', lowPerAp: false });
    expect(oeplBattery(2399)).toEqual({ batteryMv: 2399, source: 'measured', lowPerAp: true });
    expect(oeplBattery(2400).lowPerAp).toBe(false);
  });
});

describe('classifyUploadAnswer', () => {
  it('reads the answers doJsonUpload gives and marks anything else unexpected', () => {
    expect(classifyUploadAnswer(200, 'Ok, saved')).toEqual({ kind: 'stored' });
    expect(classifyUploadAnswer(409, 'come back later')).toEqual({ kind: 'busy' });
    expect(classifyUploadAnswer(400, 'mac not found in tagDB')).toEqual({ kind: 'mac-not-found' });
    expect(classifyUploadAnswer(400, 'Missing parameters')).toEqual({
      kind: 'unexpected',
      status: 400,
      body: 'Missing parameters',
      retryable: false,
    });
    expect(classifyUploadAnswer(500, 'oops')).toMatchObject({ kind: 'unexpected', retryable: true });
    expect(classifyUploadAnswer(200, 'Error while saving')).toMatchObject({ kind: 'unexpected', status: 200 });
  });
});

describe('content', () => {
  it('formats integer minor units without floats and leaves the version out of the content key', () => {
    expect(formatPrice(199)).toBe('1.99');
    expect(formatPrice(5)).toBe('0.05');
    expect(formatPrice(123_400)).toBe('1234.00');
    const content = { sku: 'SKU-1', productName: 'Tea', priceCents: 199 };
    expect(oeplContentKey(content)).toBe(oeplContentKey({ ...content }));
    expect(oeplContentKey(content)).not.toBe(oeplContentKey({ ...content, priceCents: 200 }));
    expect(oeplContentKey(content)).toContain('1.99');
  });
});

describe('backoffDelayMs', () => {
  it('doubles per attempt up to the cap, with jitter in the upper half of the step', () => {
    expect(backoffDelayMs(0, 500, 30_000, () => 0)).toBe(250);
    expect(backoffDelayMs(0, 500, 30_000, () => 0.999_999)).toBe(500);
    expect(backoffDelayMs(3, 500, 30_000, () => 0.5)).toBe(3000);
    expect(backoffDelayMs(50, 500, 30_000, () => 1)).toBe(30_000);
  });

  it('reads the firmware range from /sysinfo buildversion: 2.60 and later supported, custom builds unknown', () => {
    expect(oeplFirmware('2.60')).toEqual({ version: '2.60', supported: true });
    expect(oeplFirmware('v2.85')).toMatchObject({ supported: true });
    expect(oeplFirmware('3.0')).toMatchObject({ supported: true });
    expect(oeplFirmware('2.59')).toMatchObject({ supported: false });
    expect(oeplFirmware('1.99')).toMatchObject({ supported: false });
    expect(oeplFirmware('custom')).toEqual({ version: 'custom', supported: undefined });
  });
});
