// The KPIs view: the store's numbers over the last days as tiles (time to replenish, price updates, mismatches, and
// the shelf KPIs when the gateway has them) and one chart per day-series, each with its numbers as a table.
import { useMemo, useState } from 'preact/hooks';
import { storeInfo } from '../live.js';
import { usePolledJson } from '../use-polled-json.js';
import { DayChart } from './kpis/day-chart.js';
import { daySeries, kpiTiles, type KpisAnswer } from './kpis/kpi-model.js';
import '../styles/kpis.css';

/** The windows a person picks from, in days (the API takes 1–365). */
const WINDOWS_DAYS = [7, 30, 90] as const;
/** The numbers change slowly: asked again this often while the view is open. */
const REFRESH_MS = 60_000;

export function KpisView() {
  const [days, setDays] = useState<number>(WINDOWS_DAYS[0]);
  const { data: answer, problem } = usePolledJson<KpisAnswer>(`/api/kpis?days=${days}`, { refreshMs: REFRESH_MS, what: 'The KPIs' });

  const tiles = useMemo(() => (answer ? kpiTiles(answer) : []), [answer]);
  const charts = useMemo(() => (answer ? daySeries(answer) : []), [answer]);

  return (
    <section class="view kpis" aria-labelledby="view-heading">
      <h2 id="view-heading" tabIndex={-1}>
        KPIs
      </h2>
      <div class="kpis__window" role="group" aria-label="Period">
        {WINDOWS_DAYS.map((option) => (
          <button
            key={option}
            type="button"
            class="button"
            data-testid={`kpi-window-${option}`}
            aria-pressed={option === days}
            onClick={() => setDays(option)}
          >
            Last {option} days
          </button>
        ))}
      </div>
      {problem && (
        <p class="kpis__problem" role="alert">
          {problem}
        </p>
      )}
      {!answer && !problem && <p class="view__empty">Loading…</p>}
      {answer && (
        <>
          <ul class="kpis__tiles" aria-label={`Key numbers, last ${days} days`}>
            {tiles.map((tile) => (
              <li key={tile.id} class="kpi-tile" data-testid={`kpi-tile-${tile.id}`}>
                <span class="kpi-tile__label">{tile.label}</span>
                <strong class="kpi-tile__value" data-testid="kpi-value">
                  {tile.value}
                </strong>
                <span class="kpi-tile__detail">{tile.detail}</span>
              </li>
            ))}
          </ul>
          <p class="kpis__note">Days run midnight to midnight in the store{storeInfo.value ? ` (${storeInfo.value.timeZone})` : ''}.</p>
          <div class="kpis__charts">
            {charts.map((series) => (
              <DayChart key={series.id} series={series} />
            ))}
          </div>
        </>
      )}
    </section>
  );
}
