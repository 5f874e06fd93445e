// A compact stock list under the alerts (every facing: product, units, level), kept until the store map
// (views/map.tsx) shows the same; the staff-page browser test follows a facing's level through it.
import { facings, type FacingStock } from '../../live.js';

const LEVEL_WORDS = { ok: 'OK', low: 'Low', unknown: 'Unknown' } as const;

function levelOf(stock: FacingStock): FacingStock['level'] {
  return stock.units === null ? 'unknown' : stock.level;
}

export function ShelfStock() {
  const all = [...facings.value.values()].sort(
    (a, b) => a.shelfId.localeCompare(b.shelfId, undefined, { numeric: true }) || a.facing - b.facing,
  );
  const low = all.filter((stock) => levelOf(stock) !== 'ok').length;
  return (
    <details class="shelf-stock" data-testid="shelves">
      <summary>
        Stock of every facing ({all.length}, {low} low or unknown)
      </summary>
      <ol class="shelf-stock__list">
        {all.map((stock) => {
          const level = levelOf(stock);
          return (
            <li
              key={`${stock.shelfId}/${stock.facing}`}
              class={`facing facing--${level}`}
              data-testid="facing-row"
              data-shelf-id={stock.shelfId}
              data-facing={stock.facing}
              data-level={level}
            >
              <span class="facing__product">{stock.name}</span>
              <span class="facing__where">
                {stock.shelfId} · facing {stock.facing}
              </span>
              <span class="facing__units">
                {stock.units ?? '—'} / {stock.capacityUnits}
              </span>
              <span class="facing__level">{LEVEL_WORDS[level]}</span>
            </li>
          );
        })}
      </ol>
    </details>
  );
}
