// The Campaigns view: price campaigns by name (the price file's name or a title), who started them and when, their
// progress live from the stream (`campaign` events), the labels that failed with why, and for managers the price file
// upload and cancel / roll back / send again. Staff see the progress the stream brings (they may not list campaigns).
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { CampaignView } from '../../../../edge/campaigns/campaign.js';
import { ApiError, getJson } from '../api.js';
import { plural } from '../format.js';
import { campaigns as liveCampaigns } from '../live.js';
import { canManage, principal } from '../session.js';
import { CampaignCard } from './campaigns/campaign-card.js';
import {
  entryOfView,
  mergedCampaigns,
  needsDetail,
  type CampaignEntry,
  type CampaignProgressEvent,
  type MergeCache,
} from './campaigns/campaign-model.js';
import { PriceUpload } from './campaigns/price-upload.js';
import { productNames } from './campaigns/product-names.js';
import '../styles/campaigns.css';

/** Campaigns shown at first and added per "Show more"; the gateway lists its newest 100. */
const PAGE_SIZE = 10;
/** Campaigns whose failed labels are fetched at once (a burst of progress events must not fan out) */
const DETAIL_FETCHES_MAX = 3;
/** The kept views by id: the API's newest 100, plus what uploads and actions answered. */
const VIEWS_KEPT_MAX = 150;

export function CampaignsView() {
  const manage = canManage();
  const who = principal.value?.name;
  const [views, setViews] = useState<ReadonlyMap<string, CampaignEntry>>(new Map());
  const [shown, setShown] = useState(PAGE_SIZE);
  const [problem, setProblem] = useState<string | null>(null);
  const firstSeen = useRef(new Map<string, number>());
  const fetching = useRef(new Set<string>());

  const keepViews = useCallback((list: readonly CampaignView[]) => {
    const at = Date.now();
    setViews((current) => {
      const next = new Map(current);
      for (const view of list) next.set(view.id, entryOfView(view, at));
      // the oldest by creation go first past the bound
      if (next.size > VIEWS_KEPT_MAX) {
        const oldest = [...next.values()].sort((a, b) => (a.createdAt ?? a.seenAt) - (b.createdAt ?? b.seenAt));
        for (const entry of oldest.slice(0, next.size - VIEWS_KEPT_MAX)) next.delete(entry.id);
      }
      return next;
    });
  }, []);

  // everyone signed in loads the list (again when who is signed in changes); only managers get the actions
  useEffect(() => {
    if (!who) return;
    const abort = new AbortController();
    getJson<{ campaigns: CampaignView[] }>('/api/campaigns', { signal: abort.signal, quietRefusal: true }).then(
      (answer) => {
        setProblem(null);
        keepViews(answer.campaigns);
      },
      (error: unknown) => {
        if (!abort.signal.aborted) setProblem(`Campaigns could not be loaded: ${error instanceof ApiError ? error.message : 'try again'}.`);
      },
    );
    return () => abort.abort();
  }, [who, keepViews]);

  const progress = liveCampaigns.value as ReadonlyMap<string, CampaignProgressEvent>;
  const seenAt = (id: string) => {
    let at = firstSeen.current.get(id);
    if (at === undefined) {
      at = Date.now();
      firstSeen.current.set(id, at);
      if (firstSeen.current.size > VIEWS_KEPT_MAX * 2) firstSeen.current.delete(firstSeen.current.keys().next().value!);
    }
    return at;
  };
  const mergeCache = useRef<MergeCache>(new Map());
  const entries = useMemo(() => mergedCampaigns(views, progress, seenAt, mergeCache.current), [views, progress]);
  const keepOne = useCallback((view: CampaignView) => keepViews([view]), [keepViews]);

  // a progress event changed what a campaign lists (failed, mismatched, waiting labels): GET /api/campaigns/:id has them
  const stale = who ? entries.filter(needsDetail).map((entry) => entry.id) : [];
  const staleKey = stale.join(',');
  useEffect(() => {
    for (const id of stale) {
      if (fetching.current.has(id) || fetching.current.size >= DETAIL_FETCHES_MAX) continue;
      fetching.current.add(id);
      getJson<CampaignView>(`/api/campaigns/${encodeURIComponent(id)}`, { quietRefusal: true })
        .then((view) => keepViews([view]))
        .catch(() => undefined) // the next progress event asks again
        .finally(() => fetching.current.delete(id));
    }
  }, [staleKey]);

  const names = productNames.value;
  const productName = useCallback((sku: string) => names.get(sku), [names]);

  const visible = entries.slice(0, shown);
  return (
    <section class="view campaigns" aria-labelledby="view-heading">
      <h2 id="view-heading" tabIndex={-1}>
        Campaigns
      </h2>
      <p class="campaigns__hint">
        {manage
          ? 'Upload a price file to start a campaign; every label is followed until it shows the new price.'
          : 'Campaign progress shows here as it happens. Price files are uploaded by a manager.'}
      </p>
      {manage && <PriceUpload onCreated={keepViews} />}
      {problem && (
        <p class="campaigns__problem" role="alert">
          {problem}
        </p>
      )}
      {entries.length === 0 ? (
        <p class="view__empty" data-testid="campaigns-empty">
          No campaigns yet.
        </p>
      ) : (
        <ul class="campaigns__list" data-testid="campaigns-list">
          {visible.map((entry) => (
            <CampaignCard key={entry.id} entry={entry} productName={productName} manage={manage} onChanged={keepOne} />
          ))}
        </ul>
      )}
      {entries.length > visible.length && (
        <button type="button" class="button campaigns__more" data-testid="campaigns-more" onClick={() => setShown(shown + PAGE_SIZE)}>
          Show more ({plural(entries.length - visible.length, 'older campaign')})
        </button>
      )}
    </section>
  );
}
