// What the KPI view shows, pure: tiles with the window's numbers and one series per chart, from GET /api/kpis. The
// view renders what the answer has: the shelf KPIs (issue 24) appear when the gateway sends them.
import { DAY_MS, type DurationStats, type Kpis } from '../../../../../edge/kpis/kpi.js';
import type { ShelfKpis } from '../../../../../edge/kpis/shelf-kpis.js';

/** The shelf KPIs (issue 24), each optional: a gateway without them still shows the rest. */
export type ShelfKpisAnswer = Partial<ShelfKpis>;

export type KpisAnswer = Kpis & ShelfKpisAnswer;

export type KpiTile = { id: string; label: string; value: string; detail: string };

/** A chart's days (oldest first) and one value per day; null: nothing that day (a gap, not a zero). */
export type DaySeries = { id: string; title: string; unit: string; unitOne?: string; days: string[]; values: (number | null)[] };

const NO_DATA = '—';

/** A duration as people read it on a tile: "under 1 s", "45 s", "12 min", "1 h 5 min", "2 d 3 h". */
export function formatDuration(ms: number | null): string {
  if (ms === null) return NO_DATA;
  if (ms < 1000) return 'under 1 s';
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}

export function formatPercent(percent: number | null): string {
  return percent === null ? NO_DATA : `${percent.toLocaleString('en', { maximumFractionDigits: 1 })} %`;
}

const count = (n: number, word: string, plural = `${word}s`) => `${n} ${n === 1 ? word : plural}`;

/** The window's days, oldest first, as the per-day series have them (the replenish series lists every day). */
export function windowDays(answer: KpisAnswer): string[] {
  return answer.timeToReplenishPerDay.map((day) => day.day);
}

export function kpiTiles(answer: KpisAnswer): KpiTile[] {
  // the window's length, not its calendar days: the last 7 days touch 8 store days
  const days = Math.max(1, Math.round(answer.windowMs / DAY_MS));
  const replenish: DurationStats = answer.timeToReplenish;
  const mismatches = answer.priceMismatchesPerDay.reduce((sum, day) => sum + day.count, 0);
  const tiles: KpiTile[] = [
    {
      id: 'replenish-mean',
      label: 'Time to replenish (mean)',
      value: formatDuration(replenish.meanMs),
      detail: `over ${count(replenish.count, 'restock')}`,
    },
    {
      id: 'replenish-p90',
      label: 'Time to replenish (90 % within)',
      value: formatDuration(replenish.p90Ms),
      detail: `over ${count(replenish.count, 'restock')}`,
    },
    {
      id: 'price-success',
      label: 'Price updates confirmed',
      value: formatPercent(answer.priceUpdates.successPercent),
      detail: `${count(answer.priceUpdates.confirmed, 'label')} confirmed, ${answer.priceUpdates.failed} failed`,
    },
    {
      id: 'price-mismatches',
      label: 'Price mismatches per day',
      value: (mismatches / days).toLocaleString('en', { maximumFractionDigits: 1 }),
      detail: `${count(mismatches, 'mismatch', 'mismatches')} in ${count(days, 'day')}`,
    },
  ];
  const { onShelfAvailability, stockOuts, replenishmentAccuracy, predictionLeadTime } = answer;
  if (onShelfAvailability) {
    tiles.push({
      id: 'on-shelf',
      label: 'On-shelf availability',
      value: formatPercent(onShelfAvailability.percent),
      detail: 'of the facing time, facings not empty',
    });
  }
  if (stockOuts) {
    const meanEmpty = stockOuts.meanMs === null ? '' : `; empty ${formatDuration(stockOuts.meanMs)} on average`;
    tiles.push({
      id: 'stock-outs',
      label: 'Stock-outs',
      value: String(stockOuts.count),
      detail: `${stockOuts.ongoing} still empty${meanEmpty}`,
    });
  }
  if (replenishmentAccuracy) {
    tiles.push({
      id: 'replenish-accuracy',
      label: 'Restocked in time',
      value: formatPercent(replenishmentAccuracy.percent),
      detail: `${replenishmentAccuracy.onTime} of ${count(replenishmentAccuracy.alerts, 'low-stock alert')} within ${formatDuration(
        replenishmentAccuracy.targetMs,
      )}`,
    });
  }
  if (predictionLeadTime) {
    tiles.push({
      id: 'prediction-lead',
      label: 'Stock-out warning ahead',
      value: formatDuration(predictionLeadTime.meanMs),
      detail: `${predictionLeadTime.predicted} of ${count(predictionLeadTime.stockOuts, 'stock-out')} predicted`,
    });
  }
  return tiles;
}

export function daySeries(answer: KpisAnswer): DaySeries[] {
  const days = windowDays(answer);
  const mismatchByDay = new Map(answer.priceMismatchesPerDay.map((day) => [day.day, day.count]));
  const minutes = (ms: number | null) => (ms === null ? null : Math.round(ms / 6_000) / 10);
  const series: DaySeries[] = [
    {
      id: 'replenish',
      title: 'Time to replenish per day (mean, minutes)',
      unit: 'min',
      days,
      values: answer.timeToReplenishPerDay.map((day) => minutes(day.meanMs)),
    },
  ];
  const { onShelfAvailability, stockOuts } = answer;
  if (onShelfAvailability) {
    // the stock-out rate: the share of facing time a facing stood empty
    series.push({
      id: 'stock-out-rate',
      title: 'Stock-out rate per day (facing time empty)',
      unit: '%',
      days: onShelfAvailability.perDay.map((day) => day.day),
      values: onShelfAvailability.perDay.map((day) => (day.percent === null ? null : Math.round((100 - day.percent) * 10) / 10)),
    });
  }
  if (stockOuts) {
    series.push({
      id: 'stock-outs',
      title: 'Stock-outs per day',
      unit: 'stock-outs',
      unitOne: 'stock-out',
      days: stockOuts.perDay.map((day) => day.day),
      values: stockOuts.perDay.map((day) => day.count),
    });
  }
  series.push(
    {
      id: 'price-success',
      title: 'Price updates confirmed per day',
      unit: '%',
      days: answer.priceUpdatesPerDay.map((day) => day.day),
      values: answer.priceUpdatesPerDay.map((day) => day.successPercent),
    },
    {
      id: 'mismatches',
      title: 'Price mismatches per day',
      unit: 'mismatches',
      unitOne: 'mismatch',
      days,
      values: days.map((day) => mismatchByDay.get(day) ?? 0),
    },
  );
  return series;
}

/** A value of a series in words, for its table: "12.5 min", "no data". */
export function valueInWords(series: Pick<DaySeries, 'unit' | 'unitOne'>, value: number | null): string {
  if (value === null) return 'no data';
  const number = value.toLocaleString('en', { maximumFractionDigits: 1 });
  if (series.unit === '%') return `${number} %`;
  return `${number} ${value === 1 && series.unitOne !== undefined ? series.unitOne : series.unit}`;
}
