// The Labels view: every shelf label the gateway tracks, worst first (failed, offline, never seen, low battery, price
// on its way, ok; the order and the paging are the gateway's, GET /api/labels), one page of PAGE_SIZE at a time, so a
// store with thousands of labels keeps a small page. Filters (problems only, one driver) live in the address. The
// notice of access points with firmware too old comes from the same answer. Managers move a label to another facing
// or send its confirmed price again.
import { plural } from '../format.js';
import { replaceQuery, route } from '../route.js';
import { canManage, principal } from '../session.js';
import { usePolledJson } from '../use-polled-json.js';
import { attentionCount } from './labels/label-attention.js';
import { LabelFirmwareNotice } from './labels/label-firmware.js';
import { countsWords, driverName, filterOf, labelsPath, queryOf, type LabelFilter, type LabelPage } from './labels/label-model.js';
import { LabelRow } from './labels/label-row.js';
import '../styles/labels.css';

/** Labels on one page: a cheap tablet renders these quickly, and a shift scrolls no further. */
const PAGE_SIZE = 50;
/** The list is asked for again this often (one request at a time): check-ins and campaigns change it. */
const REFRESH_MS = 30_000;
/** After a change (a label moved, a price sent again) the list is read at once and once more after this: labels answer in seconds. */
const FOLLOW_UP_MS = 3_000;

export function LabelsView() {
  const filter = filterOf(route.value.query);
  const manage = canManage();
  const who = principal.value?.name;
  const path = labelsPath(filter, PAGE_SIZE);
  const labelsRead = usePolledJson<LabelPage>(who ? path : null, {
    refreshMs: REFRESH_MS,
    what: 'Labels',
    followUpMs: FOLLOW_UP_MS,
    readAgainFor: who,
  });
  const { data: answer, problem, loadedAt: checkedAt, reload } = labelsRead;
  // the rows shown are of the page last answered, not of the address (changed at the click, before the answer): the
  // range must name the rows shown (it said 51–100 over labels 1–50 while the next page loaded)
  const shownOffset = Number(new URLSearchParams(labelsRead.dataPath?.split('?')[1]).get('offset') ?? 0);

  const setFilter = (next: Partial<LabelFilter>) => replaceQuery(queryOf({ ...filter, page: 1, ...next }));
  const goToPage = (page: number) => {
    replaceQuery(queryOf({ ...filter, page }));
    // the next page starts at the top of the list, not where the pager was
    document.getElementById('view-heading')?.scrollIntoView();
  };
  const counts = answer?.counts;
  const needAttention = counts ? attentionCount(counts) : 0;
  const all = counts ? Object.values(counts).reduce((sum, n) => sum + n, 0) : 0;
  const first = answer && answer.labels.length > 0 ? shownOffset + 1 : 0;
  const last = answer ? first + answer.labels.length - 1 : 0;

  return (
    <section class="view labels" aria-labelledby="view-heading">
      <h2 id="view-heading" tabIndex={-1}>
        Labels
      </h2>
      <LabelFirmwareNotice drivers={answer?.drivers ?? []} checkedAt={checkedAt} />
      {counts && (
        <p class="labels__summary" data-testid="labels-summary">
          {countsWords(counts, plural)}
        </p>
      )}
      <div class="labels__filters" role="group" aria-label="Which labels">
        <div class="labels__show" role="group" aria-label="Show">
          <button
            type="button"
            class="button labels__chip"
            aria-pressed={!filter.problemsOnly}
            data-testid="labels-show-all"
            onClick={() => setFilter({ problemsOnly: false })}
          >
            All{counts ? ` (${all})` : ''}
          </button>
          <button
            type="button"
            class="button labels__chip"
            aria-pressed={filter.problemsOnly}
            data-testid="labels-show-problems"
            onClick={() => setFilter({ problemsOnly: true })}
          >
            Problems only{counts ? ` (${needAttention})` : ''}
          </button>
        </div>
        <label class="labels__driver">
          Driver{' '}
          <select
            data-testid="labels-driver"
            value={filter.driverId ?? ''}
            onChange={(event) => setFilter({ driverId: event.currentTarget.value || null })}
          >
            <option value="">Every driver</option>
            {(answer?.drivers ?? []).map((driver) => (
              <option key={driver.driverId} value={driver.driverId}>
                {driverName(driver.driverId)} ({plural(driver.labels, 'label')})
              </option>
            ))}
            {filter.driverId && !answer?.drivers.some((driver) => driver.driverId === filter.driverId) && (
              <option value={filter.driverId}>{driverName(filter.driverId)}</option>
            )}
          </select>
        </label>
      </div>
      {problem && (
        <p class="labels__problem" role="alert">
          {problem}
        </p>
      )}
      {!answer ? (
        !problem && <p class="view__empty">Loading labels…</p>
      ) : answer.labels.length === 0 && answer.total > 0 ? (
        // fewer labels match than when this page was chosen (a bookmark, labels gone): back to the first page
        <p class="view__empty" data-testid="labels-empty">
          This page is past the last label.{' '}
          <button type="button" class="button" onClick={() => goToPage(1)}>
            First page
          </button>
        </p>
      ) : answer.labels.length === 0 ? (
        <p class="view__empty" data-testid="labels-empty">
          {filter.problemsOnly || filter.driverId
            ? 'No labels match these filters.'
            : 'No labels yet: none is bound or reported by a driver.'}
        </p>
      ) : (
        <ul class="labels__list" data-testid="labels-list" aria-label="Labels, worst first">
          {answer.labels.map((label) => (
            <LabelRow key={label.labelId} label={label} manage={manage} onBound={reload} />
          ))}
        </ul>
      )}
      {answer && answer.total > PAGE_SIZE && (
        <nav class="labels__pager" aria-label="Pages of labels">
          <button
            type="button"
            class="button"
            data-testid="labels-previous"
            disabled={filter.page <= 1}
            onClick={() => goToPage(filter.page - 1)}
          >
            Previous
          </button>
          <p class="labels__range" data-testid="labels-range">
            {first}–{last} of {answer.total}
          </p>
          <button
            type="button"
            class="button"
            data-testid="labels-next"
            disabled={!answer.truncated}
            onClick={() => goToPage(filter.page + 1)}
          >
            Next
          </button>
        </nav>
      )}
    </section>
  );
}
