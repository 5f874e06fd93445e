/**
 * The HQ link as state: up or down and since when, the reconnect attempt, the last error. Pure functions; the forwarder
 * holds one `LinkState` and replaces it on every transition.
 */
export type LinkState = {
  up: boolean;
  /** ms since epoch of the last transition (start counts as down since start) */
  since: number;
  /** connection attempts since the link was last up */
  attempts: number;
  lastError: string | null;
};

export function initialLink(now: number): LinkState {
  return { up: false, since: now, attempts: 0, lastError: null };
}

export function linkUp(state: LinkState, now: number): LinkState {
  return state.up ? state : { up: true, since: now, attempts: 0, lastError: null };
}

export function linkDown(state: LinkState, now: number, error: string | null): LinkState {
  return { up: false, since: state.up ? now : state.since, attempts: state.attempts + 1, lastError: error ?? state.lastError };
}

export type BackoffOptions = { minMs: number; maxMs: number };

/**
 * Exponential backoff with jitter: the ceiling doubles per failed attempt from `minMs` to `maxMs`, and the delay is
 * drawn between half the ceiling and the ceiling ("equal jitter"), so stores cut by the same outage do not reconnect
 * in waves and a single store never hammers HQ.
 */
export function reconnectDelayMs(attempts: number, options: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxMs, options.minMs * 2 ** Math.min(Math.max(0, attempts - 1), 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}
