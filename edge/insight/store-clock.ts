/**
 * The store's wall clock in its own time zone: the hour of day the depletion model learns traffic by, and the clock
 * text an alert names ("will run out by 14:35"). Intl.DateTimeFormat, built once: a formatter per call would cost
 * more than the engine's whole decision.
 */
export type StoreClock = {
  timeZone: string;
  hourOf: (at: number) => number;
  formatTime: (at: number) => string;
};

/**
 * `store.timeZone` names no time zone this Node knows: a config problem the schema cannot see (the zone names come
 * from the ICU data Node was built with), found when the gateway is built, before anything starts. Not a ConfigError:
 * the config folder imports this room's section, so this room does not import the config folder.
 */
export class UnknownTimeZoneError extends Error {
  constructor(readonly timeZone: string) {
    super(`/store/timeZone: "${timeZone}" is not a time zone this system knows (an IANA name such as Europe/Berlin)`);
    this.name = 'UnknownTimeZoneError';
  }
}

/** The clock of `timeZone`, or of the process's time zone when null. Throws UnknownTimeZoneError for a bad name. */
export function storeClock(timeZone: string | null): StoreClock {
  let hours: Intl.DateTimeFormat;
  let time: Intl.DateTimeFormat;
  try {
    const zone = timeZone === null ? {} : { timeZone };
    hours = new Intl.DateTimeFormat('en-GB', { ...zone, hour: '2-digit', hourCycle: 'h23' });
    time = new Intl.DateTimeFormat('en-GB', { ...zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  } catch (error) {
    if (error instanceof RangeError && timeZone !== null) throw new UnknownTimeZoneError(timeZone);
    throw error;
  }
  return {
    timeZone: hours.resolvedOptions().timeZone,
    hourOf: quarterHourCache((at) => Number(hours.format(at)) % 24), // 0–23 (h23: midnight is 0, never 24)
    formatTime: (at) => time.format(at),
  };
}

const QUARTER_MS = 15 * 60_000;
const CACHE_SLOTS = 256; // a power of two: the slot is the quarter's low bits

/**
 * The hour of day is the same for a whole UTC quarter-hour (every zone's offset, and every change of it, falls on a
 * quarter: +05:45 Kathmandu, +08:45 Eucla), so each quarter is formatted once. The engine asks for it tens of times
 * per facing and look (its forecasts walk the hours ahead), and a format costs microseconds: most of the look's time.
 * Direct-mapped: 256 quarters (2.7 days) in two fixed arrays, a slot overwritten by the next quarter that maps to it.
 */
function quarterHourCache(hourOf: (at: number) => number): (at: number) => number {
  const quarters = new Float64Array(CACHE_SLOTS).fill(Number.NaN);
  const hours = new Uint8Array(CACHE_SLOTS);
  return (at) => {
    const quarter = Math.floor(at / QUARTER_MS);
    const slot = quarter & (CACHE_SLOTS - 1);
    if (quarters[slot] === quarter) return hours[slot] as number;
    const hour = hourOf(at);
    quarters[slot] = quarter;
    hours[slot] = hour;
    return hour;
  };
}
