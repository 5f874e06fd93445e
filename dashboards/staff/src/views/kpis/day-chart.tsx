// One KPI per day as a uPlot chart, with its numbers as a table beside it: the canvas is hidden from screen readers
// (it has no text), the table says the same thing in words. The chart follows its box's width (phone to desktop).
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { valueInWords, type DaySeries } from './kpi-model.js';

const CHART_HEIGHT_PX = 180;
const DAY_S = 86_400;

/** `YYYY-MM-DD` (a store day, named by its date) as uPlot's x: seconds at that date's UTC midnight. */
function dayStartS(day: string): number {
  return Date.parse(`${day}T00:00:00Z`) / 1000;
}

export function DayChart({ series }: { series: DaySeries }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const data: uPlot.AlignedData = [series.days.map(dayStartS), series.values];
    const width = Math.max(200, element.clientWidth);
    plot.current?.destroy();
    plot.current = new uPlot(
      {
        width,
        height: CHART_HEIGHT_PX,
        // a day is placed at its date's UTC midnight and its ticks are read in UTC, so each day shows its own date
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC'),
        legend: { show: false },
        cursor: { show: false },
        scales: {
          x: { time: true, range: (_u, min, max) => [min - DAY_S / 2, max + DAY_S / 2] },
          y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] },
        },
        axes: [{ stroke: '#374151' }, { stroke: '#374151', size: 50 }],
        series: [
          {},
          // points always: a day with a value between days without any (a store's first campaign) has no line to draw
          {
            label: series.title,
            stroke: '#1d4ed8',
            width: 2,
            fill: 'rgba(29, 78, 216, 0.12)',
            points: { show: true, size: 5 },
            spanGaps: false,
          },
        ],
      },
      data,
      element,
    );
    // the chart follows its box: a rotated tablet or a resized window
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(200, element.clientWidth), height: CHART_HEIGHT_PX }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [series]);

  const tableId = `kpi-table-${series.id}`;
  return (
    <figure class="kpi-chart" data-testid={`kpi-chart-${series.id}`}>
      <figcaption class="kpi-chart__title">{series.title}</figcaption>
      <div class="kpi-chart__plot" ref={box} aria-hidden="true" />
      <details class="kpi-chart__details">
        <summary>Show the numbers</summary>
        <table class="kpi-chart__table" id={tableId} data-testid={`kpi-table-${series.id}`}>
          <caption class="visually-hidden">{series.title}</caption>
          <thead>
            <tr>
              <th scope="col">Day</th>
              <th scope="col">Value</th>
            </tr>
          </thead>
          <tbody>
            {series.days.map((day, index) => (
              <tr key={day}>
                <th scope="row">{day}</th>
                <td>{valueInWords(series, series.values[index] ?? null)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
