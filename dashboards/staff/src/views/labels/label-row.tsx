// One label of the list: product first (sku and label id as secondary text), where it is, its problem with the reason,
// the prices it shows and confirmed, driver, battery and when it was last heard from. Managers may move it to
// another facing (PUT /api/labels/:id/binding), after saying which and confirming.
import { naturalCompare } from '../../../../../edge/core/natural-order.js';
import { useState } from 'preact/hooks';
import { ApiError, sendJson } from '../../api.js';
import { formatAge, formatDateTime, formatMoney, plural } from '../../format.js';
import { facings, now } from '../../live.js';
import { showNotice } from '../../notice.js';
import {
  PROBLEM_WORDS,
  batteryWords,
  driverName,
  placeWords,
  priceWords,
  problemReason,
  sendAgainCampaign,
  type LabelView,
} from './label-model.js';

type Props = { label: LabelView; manage: boolean; onBound: () => void };

export function LabelRow({ label, manage, onBound }: Props) {
  const at = now.value;
  const age = (ms: number) => formatAge(ms, at);
  const reason = problemReason(label, formatMoney, age);
  const prices = priceWords(label, formatMoney);
  const [binding, setBinding] = useState(false);
  const headingId = `label-${label.labelId}`;
  return (
    <li class="label-row" data-testid="label-row" data-label-id={label.labelId} data-problem={label.problem} aria-labelledby={headingId}>
      <div class="label-row__head">
        <h3 class="label-row__name" id={headingId}>
          {label.productName ?? (label.sku ? `Product ${label.sku}` : 'No product')}
        </h3>
        <span class="label-row__badge" data-problem={label.problem}>
          {PROBLEM_WORDS[label.problem]}
        </span>
      </div>
      <p class="label-row__ids">
        {label.sku && <span>SKU {label.sku} · </span>}
        <span>Label {label.labelId}</span>
      </p>
      {reason && (
        <p class="label-row__reason" data-testid="label-reason">
          {reason}
        </p>
      )}
      <dl class="label-row__facts">
        <div>
          <dt>Place</dt>
          <dd>{placeWords(label)}</dd>
        </div>
        <div>
          <dt>Shows</dt>
          <dd data-testid="label-price">
            {prices.shown}
            {prices.confirmed && <span class="label-row__confirmed"> (confirmed {prices.confirmed})</span>}
          </dd>
        </div>
        <div>
          <dt>Driver</dt>
          <dd>
            {driverName(label.driverId)}
            {label.driverLinkUp === false && <span class="label-row__down"> · link down</span>}
          </dd>
        </div>
        <div>
          <dt>Battery</dt>
          <dd>{batteryWords(label.batteryMv)}</dd>
        </div>
        <div>
          <dt>Last seen</dt>
          <dd>{label.lastSeenAt === null ? 'never' : <time title={formatDateTime(label.lastSeenAt)}>{age(label.lastSeenAt)}</time>}</dd>
        </div>
      </dl>
      {manage && sendAgainCampaign(label) !== null && !binding && (
        <SendAgain label={label} campaignId={sendAgainCampaign(label)!} onSent={onBound} />
      )}
      {manage &&
        (binding ? (
          <BindForm
            label={label}
            onDone={(bound) => {
              setBinding(false);
              if (bound) onBound();
            }}
          />
        ) : (
          <button type="button" class="button label-row__action" data-testid="label-bind" onClick={() => setBinding(true)}>
            Move to another facing
          </button>
        ))}
    </li>
  );
}

/** The facings the page knows (the live stock), by shelf and facing: the choices for a label's new place. */
function facingChoices() {
  return [...facings.value.values()].sort((a, b) => naturalCompare(a.shelfId, b.shelfId) || a.facing - b.facing);
}

function BindForm({ label, onDone }: { label: LabelView; onDone: (bound: boolean) => void }) {
  const choices = facingChoices();
  const [chosen, setChosen] = useState('');
  const [asking, setAsking] = useState(false);
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const target = choices.find((facing) => `${facing.shelfId}/${facing.facing}` === chosen);
  const selectId = `bind-${label.labelId}`;

  const send = async () => {
    if (!target || sending) return;
    setSending(true);
    setError(null);
    try {
      await sendJson('PUT', `/api/labels/${encodeURIComponent(label.labelId)}/binding`, { shelfId: target.shelfId, facing: target.facing });
      showNotice(`Label ${label.labelId} now shows ${target.name} (${target.shelfId} / facing ${target.facing})`);
      onDone(true);
    } catch (failure) {
      setAsking(false);
      setError(`Not moved: ${failure instanceof ApiError ? failure.message : 'try again'}.`);
    } finally {
      setSending(false);
    }
  };

  return (
    <div class="label-bind" role="group" aria-label={`Move label ${label.labelId}`}>
      <label for={selectId}>New place</label>
      <select
        id={selectId}
        data-testid="label-bind-facing"
        value={chosen}
        onChange={(event) => {
          setChosen(event.currentTarget.value);
          setAsking(false);
        }}
      >
        <option value="">Choose a facing…</option>
        {choices.map((facing) => (
          <option key={`${facing.shelfId}/${facing.facing}`} value={`${facing.shelfId}/${facing.facing}`}>
            {facing.name} — {facing.shelfId} / facing {facing.facing}
          </option>
        ))}
      </select>
      {asking && target ? (
        <>
          <p class="label-bind__ask">
            Move label {label.labelId} to {target.name} ({target.shelfId} / facing {target.facing})? It will show that product's price.
          </p>
          <button
            type="button"
            class="button button--primary"
            data-testid="label-bind-confirm"
            aria-disabled={sending}
            onClick={() => void send()}
          >
            Yes, move it
          </button>
        </>
      ) : (
        <button
          type="button"
          class="button button--primary"
          data-testid="label-bind-ask"
          disabled={!target}
          onClick={() => setAsking(true)}
        >
          Move
        </button>
      )}
      <button type="button" class="button button--quiet" onClick={() => onDone(false)}>
        Cancel
      </button>
      {error && (
        <p class="label-bind__error" role="alert" data-testid="label-bind-error">
          {error}
        </p>
      )}
    </div>
  );
}

/**
 * "Send again" of the campaign that confirmed the label's price (POST /api/campaigns/:id/resend): a new campaign that
 * sends that campaign's price again to this label and to any other of its labels that failed or show another price.
 */
function SendAgain({ label, campaignId, onSent }: { label: LabelView; campaignId: string; onSent: () => void }) {
  const [asking, setAsking] = useState(false);
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const send = async () => {
    if (sending) return;
    setSending(true);
    setError(null);
    try {
      const again = await sendJson<{ id: string; total: number }>('POST', `/api/campaigns/${encodeURIComponent(campaignId)}/resend`, {});
      showNotice(`Sending the price again to ${plural(again.total, 'label')}`);
      setAsking(false);
      onSent();
    } catch (failure) {
      setError(`Not sent again: ${failure instanceof ApiError ? failure.message : 'try again'}.`);
    } finally {
      setSending(false);
    }
  };
  return (
    <div class="label-bind" role="group" aria-label={`Send the price of label ${label.labelId} again`}>
      {asking ? (
        <>
          <p class="label-bind__ask">
            Send {label.confirmedPriceCents === null ? 'the confirmed price' : formatMoney(label.confirmedPriceCents)} again to label{' '}
            {label.labelId}? Every label of campaign {campaignId} that failed or shows another price gets its price again.
          </p>
          <button
            type="button"
            class="button button--primary"
            data-testid="label-send-again-confirm"
            aria-disabled={sending}
            onClick={() => void send()}
          >
            Yes, send again
          </button>
          <button type="button" class="button button--quiet" onClick={() => setAsking(false)}>
            Cancel
          </button>
        </>
      ) : (
        <button type="button" class="button" data-testid="label-send-again" onClick={() => setAsking(true)}>
          Send the price again
        </button>
      )}
      {error && (
        <p class="label-bind__error" role="alert" data-testid="label-send-again-error">
          {error}
        </p>
      )}
    </div>
  );
}
