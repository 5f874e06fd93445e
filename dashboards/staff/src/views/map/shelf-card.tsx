// One shelf as a card of its facings, each a button coloured by its fill and named in words (level, units, alerts):
// a facing opens its history. Each facing reads its own slice of the live signals, so a stock event re-renders the
// one facing it is about, not the map.
import { computed, useComputed } from '@preact/signals';
import { alerts, devices, facings } from '../../live.js';
import { alertWordsByFacing, facingFill, FILL_WORDS } from './map-model.js';

/** open alerts in words per "shelfId/facing", recomputed once per alert change for every facing */
const alertWords = computed(() => alertWordsByFacing(alerts.value.values()));

export function ShelfCard({
  shelfId,
  facingNumbers,
  onOpen,
}: {
  shelfId: string;
  facingNumbers: readonly number[];
  onOpen: (key: string) => void;
}) {
  const offline = useComputed(() => devices.value.get(shelfId)?.connected === false);
  return (
    <article class="shelf-card" data-testid="shelf-card" data-shelf-id={shelfId} aria-labelledby={`shelf-${shelfId}`}>
      <h4 class="shelf-card__title" id={`shelf-${shelfId}`}>
        Shelf {shelfId}
        {offline.value && <span class="shelf-card__offline">sensor offline</span>}
      </h4>
      <ol class="facings">
        {facingNumbers.map((facing) => (
          <FacingRow key={facing} stockKey={`${shelfId}/${facing}`} onOpen={onOpen} />
        ))}
      </ol>
    </article>
  );
}

function FacingRow({ stockKey, onOpen }: { stockKey: string; onOpen: (key: string) => void }) {
  const stock = useComputed(() => facings.value.get(stockKey)).value;
  const alertText = useComputed(() => alertWords.value.get(stockKey) ?? '').value;
  if (!stock) return null;
  const { level, ratio } = facingFill(stock);
  return (
    <li class="facings__item">
      <button
        type="button"
        class={`facing facing--${level}`}
        data-testid="facing-row"
        data-shelf-id={stock.shelfId}
        data-facing={stock.facing}
        data-level={stock.level}
        data-fill={level}
        data-alerts={alertText ? 'open' : 'none'}
        onClick={() => onOpen(stockKey)}
      >
        <span class="facing__number">
          <span class="visually-hidden">Facing </span>
          {stock.facing}
        </span>
        <span class="facing__name">
          <span class="facing__product">{stock.name}</span>
          {stock.source === 'sales-estimate' && <span class="facing__tag">estimated from sales</span>}
        </span>
        <span class="facing__units">
          {stock.units ?? '—'} / {stock.capacityUnits}
          <span class="visually-hidden"> units, low at {stock.lowStockUnits},</span>
        </span>
        <span class="facing__level" data-testid="facing-level">
          {FILL_WORDS[level]}
        </span>
        {alertText && (
          <span class="facing__alerts" data-testid="facing-alerts">
            {alertText}
          </span>
        )}
        <span class="facing__bar" aria-hidden="true">
          <span class="facing__fill" style={{ width: `${Math.round(ratio * 100)}%` }} />
        </span>
      </button>
    </li>
  );
}
