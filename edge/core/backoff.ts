/**
 * Exponential backoff with jitter: the one way the gateway spaces out reconnects and retries (HQ link, OPC UA devices,
 * OpenEPaperLink access points, label sends). Jitter matters for all of them: stores, cases or labels cut by the same
 * outage would otherwise come back in lockstep and fail together again. Pure: the random source is a parameter, so a
 * test (or a resumed campaign) gets the same delays from the same numbers.
 */
export type Backoff = {
  /** the ceiling of the first retry's delay (attempt 0) */
  baseMs: number;
  /** the ceiling stops growing here */
  maxMs: number;
  /** the ceiling grows by this factor per attempt (2: doubling) */
  factor: number;
  /** 0 … 1: the share of the ceiling that is random; 0.5 draws between half the ceiling and the ceiling ("equal jitter") */
  jitter: number;
};

/**
 * The wait before retry `attempt` (0-based: 0 is the first retry; below 0 counts as 0): the ceiling
 * min(maxMs, baseMs × factor^attempt), of which the share `jitter` is scaled by `random()` (a number in [0, 1), e.g.
 * Math.random; clamped into [0, 1]). Whole milliseconds.
 *
 * Callers that count attempts from 1 (failures so far) pass `attempts - 1`. The ceiling is capped by `maxMs` alone: a
 * huge attempt count grows factor^attempt to Infinity, which the cap turns back into `maxMs` (a base of 0 stays 0).
 */
export function jitteredBackoffMs(backoff: Backoff, attempt: number, random: () => number): number {
  const grownMs = backoff.baseMs === 0 ? 0 : backoff.baseMs * backoff.factor ** Math.max(0, attempt);
  const ceilingMs = Math.min(backoff.maxMs, grownMs);
  const unit = Math.min(Math.max(random(), 0), 1);
  // fixed part + random part, written so that jitter 0.5 gives exactly ceiling/2 + ceiling/2 × unit
  return Math.round(ceilingMs * (1 - backoff.jitter) + ceilingMs * backoff.jitter * unit);
}
