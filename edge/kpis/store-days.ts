/**
 * The store's calendar days in its own time zone: a KPI "day" is the day the store lives, midnight to midnight where
 * it stands — a UTC day would cut a Chicago store's evening at 18:00 and put it on the next day's chart. Pure but for
 * Intl (built once per zone). A day is 23 or 25 hours long when the clocks change; its bounds are found, not assumed.
 */

const HOUR_MS = 3_600_000;
/** the route allows a year; the cap keeps a wrong caller from building a huge list */
const MAX_DAYS = 400;

/** One store day: its name (`YYYY-MM-DD`) and the instants it spans, [start, end). */
export type StoreDay = { day: string; start: number; end: number };

export type StoreDays = {
  /** the IANA zone the days are cut in */
  readonly timeZone: string;
  /** the name (`YYYY-MM-DD`) of the store day `at` falls on */
  readonly dayOf: (at: number) => string;
  /** the store days from the one holding `from` to the one holding `to`, oldest first (at most 400) */
  readonly daysOf: (from: number, to: number) => StoreDay[];
};

/** The days of `timeZone` (an IANA name the caller has checked: an unknown one throws RangeError here). */
export function storeDays(timeZone: string): StoreDays {
  const dateFormat = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  const wallFormat = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
    hourCycle: 'h23',
  });
  // en-CA writes dates as YYYY-MM-DD
  const dayOf = (at: number): string => dateFormat.format(at);

  /** The zone's offset from UTC at `at`, ms (its wall clock minus UTC, to the second). */
  const offsetAt = (at: number): number => {
    const parts: Record<string, number> = {};
    for (const part of wallFormat.formatToParts(at)) if (part.type !== 'literal') parts[part.type] = Number(part.value);
    const wall = Date.UTC(parts.year as number, (parts.month as number) - 1, parts.day, parts.hour, parts.minute, parts.second);
    return wall - (at - (((at % 1000) + 1000) % 1000));
  };

  /** The first instant of the store day named `name`, which `at` falls on. */
  const findStart = (name: string, at: number): number => {
    const midnightAsUtc = Date.parse(`${name}T00:00:00Z`);
    // the offset at midnight may differ from the one at `at` (the clocks changed that day): ask again at the guess
    let start = midnightAsUtc - offsetAt(at);
    start = midnightAsUtc - offsetAt(start);
    // a zone whose clocks jump at midnight has no 00:00 that day: the day then starts at the jump, up to an hour later
    for (let step = 0; step < 4 && dayOf(start) !== name; step++) start += HOUR_MS / 4;
    return start;
  };

  // a day's start never changes for a zone: the KPI route asks for the same days at every request (a year's worth at most)
  const starts = new Map<string, number>();

  /** The first instant of the store day `at` falls on. */
  const startOf = (at: number): number => {
    const name = dayOf(at);
    const known = starts.get(name);
    if (known !== undefined) return known;
    const start = findStart(name, at);
    if (starts.size >= MAX_DAYS * 2) starts.clear();
    starts.set(name, start);
    return start;
  };

  return {
    timeZone: dateFormat.resolvedOptions().timeZone,
    dayOf,
    daysOf: (from, to) => {
      const days: StoreDay[] = [];
      let start = startOf(from);
      while (start <= to && days.length < MAX_DAYS) {
        // 26 h after a day's start is always inside the next day (days last 23 to 25 h)
        const end = startOf(start + 26 * HOUR_MS);
        days.push({ day: dayOf(start), start, end });
        start = end;
      }
      return days;
    },
  };
}
