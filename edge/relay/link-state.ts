import { jitteredBackoffMs } from '../core/backoff.js';

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
 * in waves and a single store never hammers HQ. `attempts` counts failures (1 after the first), hence `attempts - 1`.
 */
export function reconnectDelayMs(attempts: number, options: BackoffOptions, random: () => number = Math.random): number {
  return jitteredBackoffMs({ baseMs: options.minMs, maxMs: options.maxMs, factor: 2, jitter: 0.5 }, attempts - 1, random);
}
