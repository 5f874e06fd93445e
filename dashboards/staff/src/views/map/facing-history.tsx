// A facing's units over the last 24 hours or 7 days (GET /api/facings/:shelfId/:facing/history) as a step chart
// (uPlot), with the same history in one sentence for screen readers. Fetched when opened, when the range changes and
// again shortly after the facing's units change (debounced: a draining facing does not fetch per reading).
import { useComputed, useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { ApiError, getJson } from '../../api.js';
import { formatDateTime } from '../../format.js';
import { facings, storeInfo } from '../../live.js';
import { settledRefresh, type SettledRefresh } from '../../settled-refresh.js';
import { historySummary, type HistoryPoint } from './map-model.js';

type HistoryAnswer = {
  shelfId: string;
  facing: number;
  sku: string;
  name: string;
  capacityUnits: number;
  lowStockUnits: number;
  units: number | null;
  from: number;
  to: number;
  points: HistoryPoint[];
};

const RANGES = [
  { hours: 24, label: '24 hours', words: 'last 24 hours' },
  { hours: 168, label: '7 days', words: 'last 7 days' },
] as const;
const REFRESH_AFTER_CHANGE_MS = 2_000;
const REFRESH_AT_MOST_AFTER_MS = 10_000;
const CHART_HEIGHT_PX = 220;
const CHART_MAX_WIDTH_PX = 1_200;

export function FacingHistory({ stockKey, onClose }: { stockKey: string; onClose: () => void }) {
  const hours = useSignal<number>(RANGES[0].hours);
  const answer = useSignal<HistoryAnswer | null>(null);
  const problem = useSignal<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const [shelfId, facingText] = splitKey(stockKey);
  // units and the time of the last change: a new value means a new point to fetch
  const changed = useComputed(() => {
    const stock = facings.value.get(stockKey);
    return `${stock?.units ?? ''}@${stock?.updatedAt ?? ''}`;
  }).value;

  useEffect(() => heading.current?.focus(), [stockKey]);

  const refresh = useRef<SettledRefresh | null>(null);
  useEffect(() => {
    const controller = new AbortController();
    const hoursAsked = hours.value;
    const load = () =>
      getJson<HistoryAnswer>(`/api/facings/${encodeURIComponent(shelfId)}/${facingText}/history?hours=${hoursAsked}`, {
        signal: controller.signal,
      })
        .then((body) => {
          answer.value = body;
          problem.value = null;
        })
        .catch((error: unknown) => {
          if (controller.signal.aborted) return;
          problem.value = `Could not load the history: ${error instanceof ApiError ? error.message : String(error)}`;
        });
    void load();
    // after a change of units, one load once the facing has settled (and at least every 10 s while it keeps changing)
    const settled = settledRefresh(load, REFRESH_AFTER_CHANGE_MS, REFRESH_AT_MOST_AFTER_MS);
    refresh.current = settled;
    return () => {
      settled.cancel();
      controller.abort();
    };
  }, [stockKey, hours.value]);

  const lastChange = useRef(changed);
  useEffect(() => {
    if (lastChange.current !== changed) refresh.current?.changed();
    lastChange.current = changed;
  }, [changed]);

  const range = RANGES.find((r) => r.hours === hours.value) ?? RANGES[0];
  const body = answer.value;
  const current = body && `${body.shelfId}/${body.facing}` === stockKey && body.to - body.from === hours.value * 3_600_000 ? body : null;
  return (
    <section class="facing-history" data-testid="facing-history" aria-labelledby="facing-history-heading">
      <div class="facing-history__head">
        <h3 id="facing-history-heading" ref={heading} tabIndex={-1}>
          {current?.name ?? facings.value.get(stockKey)?.name ?? 'Facing'}
          <span class="facing-history__where">
            {' '}
            · shelf {shelfId}, facing {facingText}
          </span>
        </h3>
        <div class="facing-history__ranges" role="group" aria-label="Time range">
          {RANGES.map((r) => (
            <button
              key={r.hours}
              type="button"
              class="button"
              data-testid={`history-range-${r.hours}`}
              aria-pressed={r.hours === hours.value}
              onClick={() => (hours.value = r.hours)}
            >
              {r.label}
            </button>
          ))}
          <button type="button" class="button button--quiet" data-testid="history-close" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
      {problem.value && <p class="facing-history__problem">{problem.value}</p>}
      {current ? (
        <>
          <p class="facing-history__summary" data-testid="history-summary">
            {historySummary(current.points, current, range.words)} Now: {current.units ?? 'no reading'}
            {current.units === null ? '' : ` of ${current.capacityUnits} units`}.
          </p>
          <UnitsChart answer={current} />
          <p class="facing-history__span">
            {formatDateTime(current.from)} – {formatDateTime(current.to)}
          </p>
        </>
      ) : (
        !problem.value && <p class="view__empty">Loading the history…</p>
      )}
    </section>
  );
}

function splitKey(key: string): [string, string] {
  const at = key.lastIndexOf('/');
  return [key.slice(0, at), key.slice(at + 1)];
}

/** The chart's series: every point, and the units now at the window's end so the line reaches the present. */
function chartData(answer: HistoryAnswer): uPlot.AlignedData {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const point of answer.points) {
    xs.push(point.at / 1000);
    ys.push(point.units);
  }
  const last = answer.units ?? answer.points[answer.points.length - 1]?.units;
  if (last !== undefined) {
    if (xs.length === 0) {
      xs.push(answer.from / 1000);
      ys.push(last);
    }
    xs.push(answer.to / 1000);
    ys.push(last);
  }
  return [xs, ys];
}

/** uPlot draws on a canvas: hidden from screen readers, who get the summary above it. */
function UnitsChart({ answer }: { answer: HistoryAnswer }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const width = () => Math.min(CHART_MAX_WIDTH_PX, Math.max(240, element.clientWidth));
    const timeZone = storeInfo.value?.timeZone;
    const plot = new uPlot(
      {
        width: width(),
        height: CHART_HEIGHT_PX,
        legend: { show: false },
        ...(timeZone ? { tzDate: (seconds: number) => uPlot.tzDate(new Date(seconds * 1000), timeZone) } : {}),
        // the whole window, not only the span of its points: a quiet week shows as a quiet week
        scales: { x: { time: true, range: [answer.from / 1000, answer.to / 1000] }, y: { range: [0, Math.max(1, answer.capacityUnits)] } },
        axes: [{}, { label: 'units', size: 50 }],
        series: [
          {},
          {
            label: 'units',
            stroke: '#1d4ed8',
            width: 2,
            fill: 'rgba(29, 78, 216, 0.12)',
            paths: uPlot.paths.stepped?.({ align: 1 }),
            points: { show: false },
          },
        ],
      },
      chartData(answer),
      element,
    );
    // bounded: one observer per chart, gone with it
    const resize = new ResizeObserver(() => plot.setSize({ width: width(), height: CHART_HEIGHT_PX }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [answer]);
  return <div class="facing-history__chart" ref={box} data-testid="history-chart" data-points={answer.points.length} aria-hidden="true" />;
}
