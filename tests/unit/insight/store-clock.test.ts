/** The store's clock in its time zone: the hour the depletion model learns by, the time an alert names. */
import { describe, expect, it } from 'vitest';
import { storeClock, UnknownTimeZoneError } from '../../../edge/insight/store-clock.js';
import { configDefaults } from '../../../edge/core/schema-defaults.js';
import { InsightConfigSchema } from '../../../edge/insight/insight-config.js';
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
    expect(() => insightSettings(configDefaults(InsightConfigSchema), 'Mars/Olympus')).toThrow(
      /\/store\/timeZone: "Mars\/Olympus" is not a time zone/,
    );
  });
});

describe('storeClock: the hour of day, formatted once a quarter-hour', () => {
  const direct = (timeZone: string) => {
    const format = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', hourCycle: 'h23' });
    return (at: number) => Number(format.format(at)) % 24;
  };

  it('agrees with Intl at every minute of days with a quarter-hour offset and a summer-time change, in any order', () => {
    for (const [timeZone, day] of [
      ['Asia/Kathmandu', Date.UTC(2026, 11, 7)], // +05:45
      ['Australia/Eucla', Date.UTC(2026, 11, 7)], // +08:45
      ['Europe/Berlin', Date.UTC(2026, 2, 29)], // 02:00 → 03:00
      ['Australia/Lord_Howe', Date.UTC(2026, 3, 4, 12)], // +11 → +10:30
    ] as const) {
      const clock = storeClock(timeZone);
      const hourOf = direct(timeZone);
      const minutes = Array.from({ length: 3 * 24 * 60 }, (_, i) => day + i * 60_000);
      // forwards, then in a shuffled order that revisits cached quarters and evicts others (256 slots, 288 quarters)
      const shuffled = minutes.map((at, i) => minutes[(i * 7919) % minutes.length] as number);
      for (const at of [...minutes, ...shuffled]) {
        if (clock.hourOf(at) !== hourOf(at)) throw new Error(`${timeZone} ${new Date(at).toISOString()}: ${clock.hourOf(at)}`);
      }
    }
  });
});
