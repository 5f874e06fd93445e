import { describe, expect, it } from 'vitest';
import { storeDays } from '../../../edge/kpis/store-days.js';

const HOUR = 3_600_000;

describe('storeDays', () => {
  it('names the day an instant falls on where the store stands', () => {
    const at = Date.UTC(2026, 11, 7, 23, 30); // 23:30 UTC
    expect(storeDays('UTC').dayOf(at)).toBe('2026-12-07');
    expect(storeDays('Europe/Berlin').dayOf(at)).toBe('2026-12-08'); // 00:30 in Berlin
    expect(storeDays('America/Chicago').dayOf(Date.UTC(2026, 11, 8, 3))).toBe('2026-12-07'); // 21:00 the evening before
  });

  it("cuts days at local midnight, Kathmandu's +05:45 included", () => {
    expect(storeDays('Europe/Berlin').daysOf(Date.UTC(2026, 11, 8, 12), Date.UTC(2026, 11, 8, 12))).toEqual([
      { day: '2026-12-08', start: Date.UTC(2026, 11, 7, 23), end: Date.UTC(2026, 11, 8, 23) },
    ]);
    const [day] = storeDays('Asia/Kathmandu').daysOf(Date.UTC(2026, 11, 8, 12), Date.UTC(2026, 11, 8, 12));
    expect(day).toEqual({ day: '2026-12-08', start: Date.UTC(2026, 11, 7, 18, 15), end: Date.UTC(2026, 11, 8, 18, 15) });
  });

  it('gives the day the clocks go forward 23 hours and the day they go back 25', () => {
    const berlin = storeDays('Europe/Berlin');
    const [spring] = berlin.daysOf(Date.UTC(2026, 2, 29, 12), Date.UTC(2026, 2, 29, 12));
    expect(spring).toEqual({ day: '2026-03-29', start: Date.UTC(2026, 2, 28, 23), end: Date.UTC(2026, 2, 29, 22) });
    const [autumn] = berlin.daysOf(Date.UTC(2026, 9, 25, 12), Date.UTC(2026, 9, 25, 12));
    expect(autumn).toEqual({ day: '2026-10-25', start: Date.UTC(2026, 9, 24, 22), end: Date.UTC(2026, 9, 25, 23) });
    expect(((autumn?.end ?? 0) - (autumn?.start ?? 0)) / HOUR).toBe(25);
  });

  it('starts a day with no midnight (the clocks jump from 00:00 to 01:00) at the jump', () => {
    // Cuba moves its clocks forward at midnight on the second Sunday of March (2026-03-08): 00:00 CST is 01:00 CDT
    const havana = storeDays('America/Havana');
    const [day] = havana.daysOf(Date.UTC(2026, 2, 8, 18), Date.UTC(2026, 2, 8, 18));
    expect(day?.day).toBe('2026-03-08');
    expect(havana.dayOf((day?.start ?? 0) - 1)).toBe('2026-03-07');
    expect(havana.dayOf(day?.start ?? 0)).toBe('2026-03-08');
    expect(((day?.end ?? 0) - (day?.start ?? 0)) / HOUR).toBe(23);
  });

  it('lists every day of a window, oldest first, each ending where the next starts', () => {
    const days = storeDays('America/Chicago').daysOf(Date.UTC(2026, 10, 1, 3), Date.UTC(2026, 10, 3, 12));
    // 2026-11-01 is the day Chicago's clocks go back: 25 hours
    expect(days.map((d) => d.day)).toEqual(['2026-10-31', '2026-11-01', '2026-11-02', '2026-11-03']);
    for (let i = 1; i < days.length; i++) expect(days[i]?.start).toBe(days[i - 1]?.end);
    expect(((days[1]?.end ?? 0) - (days[1]?.start ?? 0)) / HOUR).toBe(25);
    expect(storeDays('UTC').daysOf(0, 1_000 * 24 * HOUR)).toHaveLength(400);
  });
});
