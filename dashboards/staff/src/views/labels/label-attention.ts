// How many labels need someone (failed, offline, never seen, battery low), for the Labels tab's badge: the
// access-point firmware notice and a label showing the wrong price live in the Labels view, and a shift that never
// opens that tab would otherwise not learn of them. One small GET /api/labels (limit 1: only its counts are read)
// a minute while someone is signed in; a refused or failed answer leaves the badge as it was.
import { signal } from '@preact/signals';
import { getJson } from '../../api.js';
import { principal } from '../../session.js';
import { ATTENTION_PROBLEMS, type LabelPage } from './label-model.js';

const REFRESH_MS = 60_000;

/** null: not known yet (or signed out) */
export const labelsNeedingAttention = signal<number | null>(null);

/** The number a page of labels says needs someone, from its counts. */
export function attentionCount(counts: LabelPage['counts']): number {
  return ATTENTION_PROBLEMS.reduce((sum, problem) => sum + counts[problem], 0);
}

/** Starts the minute's look; the function returned stops it. */
export function watchLabelAttention(): () => void {
  let inFlight = false;
  const look = () => {
    if (!principal.value) {
      labelsNeedingAttention.value = null;
      return;
    }
    if (inFlight) return; // a slow gateway is not asked again meanwhile
    inFlight = true;
    getJson<LabelPage>('/api/labels?limit=1', { quietRefusal: true })
      .then((page) => (labelsNeedingAttention.value = attentionCount(page.counts)))
      .catch(() => undefined)
      .finally(() => (inFlight = false));
  };
  const stopFollowing = principal.subscribe(look); // at once, and again when someone signs in or out
  const timer = setInterval(look, REFRESH_MS);
  return () => {
    stopFollowing();
    clearInterval(timer);
  };
}
