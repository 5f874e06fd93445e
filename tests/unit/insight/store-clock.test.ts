/** The store's clock in its time zone: the hour the depletion model learns by, the time an alert names. */
import { describe, expect, it } from 'vitest';
import { storeClock, UnknownTimeZoneError } from '../../../edge/insight/store-clock.js';
import { insightSettings } from '../../../edge/insight/module.js';

describe('storeClock', () => {
  it("gives the hour of day and the clock text in the store's time zone, not UTC", () => {
    const at = Date.UTC(2026, 11, 7, 23, 30); // 00:30 the next day in Berlin (CET, +1)
    const berlin = storeClock('Europe/Berlin');
    expect(berlin.hourOf(at)).toBe(0);
    expect(berlin.formatTime(at)).toBe('00:30');
    const utc = storeClock('UTC');
    expect(utc.hourOf(at)).toBe(23);
    expect(utc.formatTime(at)).toBe('23:30');
    // summer time: +2
    expect(berlin.hourOf(Date.UTC(2026, 6, 1, 10, 0))).toBe(12);
  });

  it("null is the process's time zone", () => {
    expect(storeClock(null).timeZone).toBe(new Intl.DateTimeFormat().resolvedOptions().timeZone);
  });

  it('a name no time zone has is refused with the option named', () => {
    expect(() => storeClock('Mars/Olympus')).toThrow(UnknownTimeZoneError);
    expect(() =>
      insightSettings({
        enabled: true,
        restockLeadTimeMin: 30,
        availabilitySafetyUnits: 2,
        availabilityCoalesceSec: 5,
        tickSec: 300,
        minWatchMin: 20,
        noSalesBeforeTrafficKnown: false,
        timeZone: 'Mars/Olympus',
      }),
    ).toThrow(/\/insight\/timeZone: "Mars\/Olympus" is not a time zone/);
  });
});
