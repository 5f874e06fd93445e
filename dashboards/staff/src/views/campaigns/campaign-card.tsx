// One campaign: its name (the price file's or a title; the id as secondary text), who and when, how many skus and
// labels, its state in words, progress, the labels that failed with why, and a manager's actions (each asks first).
import { memo } from 'preact/compat';
import { useState } from 'preact/hooks';
import type { CampaignView } from '../../../../../edge/campaigns/campaign.js';
import { ApiError, UNREACHABLE, sendJson } from '../../api.js';
import { formatClock, formatDateTime, formatMoney, plural } from '../../format.js';
import {
  campaignActions,
  campaignTitle,
  percentDone,
  settledLabels,
  shownLabelCounts,
  stateWords,
  type CampaignEntry,
} from './campaign-model.js';

type Action = 'cancel' | 'rollback' | 'resend';

/** What each action asks before it goes, and what its button says. */
const ACTIONS: Record<Action, { button: string; confirm: string; ask: (title: string) => string; path: string }> = {
  cancel: {
    button: 'Cancel campaign',
    confirm: 'Yes, cancel it',
    ask: (title) => `Cancel ${title}? Labels that do not show the new price yet keep their old one; labels already showing it keep it.`,
    path: 'cancel',
  },
  rollback: {
    button: 'Roll back',
    confirm: 'Yes, roll back',
    ask: (title) => `Roll back ${title}? Every label it changed goes back to the price it showed before.`,
    path: 'rollback',
  },
  resend: {
    button: 'Send again',
    confirm: 'Yes, send again',
    ask: (title) => `Send the labels of ${title} that failed or show another price their price again?`,
    path: 'resend',
  },
};

export type CampaignCardProps = {
  entry: CampaignEntry;
  /** the product's name by sku, for people (the sku stays as secondary text) */
  productName: (sku: string) => string | undefined;
  manage: boolean;
  /** an action's answer: the campaign it changed or made */
  onChanged: (view: CampaignView) => void;
};

export const CampaignCard = memo(function CampaignCard({ entry, productName, manage, onChanged }: CampaignCardProps) {
  const [asking, setAsking] = useState<Action | null>(null);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const title = campaignTitle(entry);
  const percent = percentDone(entry);
  const settled = settledLabels(entry.counts);
  const allowed = campaignActions(entry);
  const headingId = `campaign-${entry.id}-name`;

  const run = async (action: Action) => {
    setBusy(true);
    setProblem(null);
    try {
      const view = await sendJson<CampaignView>(
        'POST',
        `/api/campaigns/${encodeURIComponent(entry.id)}/${ACTIONS[action].path}`,
        {},
        {
          retryAfterSignIn: () => void run(action),
        },
      );
      onChanged(view);
      setAsking(null);
    } catch (error) {
      const why = error instanceof ApiError && error.status !== UNREACHABLE ? error.message : 'could not reach the gateway; try again';
      setProblem(`${ACTIONS[action].button} did not work: ${why.replace(/\.$/, '')}.`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <li
      class={`campaign campaign--${entry.state}${entry.counts.failed > 0 ? ' campaign--has-failed' : ''}`}
      data-testid="campaign-item"
      data-campaign-id={entry.id}
      data-state={entry.state}
      aria-labelledby={headingId}
    >
      <div class="campaign__head">
        <h3 class="campaign__name" id={headingId} data-testid="campaign-name">
          {title}
        </h3>
        <span class={`campaign__state campaign__state--${entry.state}`} data-testid="campaign-state">
          {stateWords(entry.state)}
        </span>
      </div>
      <p class="campaign__meta">
        {entry.name !== undefined && <span class="campaign__id">{entry.id}</span>}
        {entry.createdBy !== undefined && <span>by {entry.createdBy}</span>}
        {entry.createdAt !== undefined && <span>{formatDateTime(entry.createdAt)}</span>}
        {entry.state === 'scheduled' && entry.effectiveAt !== undefined && <span>starts {formatDateTime(entry.effectiveAt)}</span>}
        {entry.skus !== undefined && <span data-testid="campaign-skus">{plural(entry.skus, 'sku')}</span>}
      </p>
      <div class="campaign__progress">
        <progress
          max={Math.max(entry.total, 1)}
          value={entry.total > 0 ? settled : percent / 100}
          aria-label={`${title}: ${settled} of ${plural(entry.total, 'label')} done`}
        />
        <span class="campaign__percent" data-testid="campaign-percent">
          {percent} %
        </span>
      </div>
      <ul class="campaign__counts" aria-label={`Labels of ${title} by state`}>
        <li class="campaign__count" data-testid="campaign-total">
          {plural(entry.total, 'label')}
        </li>
        {shownLabelCounts(entry.counts).map(({ state, text }) => (
          <li key={state} class={`campaign__count campaign__count--${state}`} data-testid="campaign-count" data-label-state={state}>
            {text}
          </li>
        ))}
        {entry.mismatchedCount > 0 && (
          <li class="campaign__count campaign__count--failed" data-testid="campaign-mismatched-count">
            {plural(entry.mismatchedCount, 'label shows', 'labels show')} another price
          </li>
        )}
      </ul>
      {entry.failed && entry.failed.length > 0 && (
        <ul class="campaign__failed" data-testid="campaign-failed" aria-label={`Labels of ${title} that failed`}>
          {entry.failed.map((label) => (
            <li key={label.labelId} data-testid="failed-label" data-label-id={label.labelId}>
              <strong>{productName(label.sku) ?? `SKU ${label.sku}`}</strong>
              {` — label ${label.labelId} (SKU ${label.sku}, ${formatMoney(label.priceCents)}): ${label.reason}`}
            </li>
          ))}
          {(entry.failedNotListed ?? 0) > 0 && <li>and {plural(entry.failedNotListed ?? 0, 'more failed label')}</li>}
        </ul>
      )}
      {entry.mismatched && entry.mismatched.length > 0 && (
        <ul class="campaign__failed" data-testid="campaign-mismatched" aria-label={`Labels of ${title} that show another price`}>
          {entry.mismatched.map((label) => (
            <li key={label.labelId} data-testid="mismatched-label" data-label-id={label.labelId}>
              <strong>{productName(label.sku) ?? `SKU ${label.sku}`}</strong>
              {` — label ${label.labelId} shows ${formatMoney(label.shownPriceCents)}, confirmed ${formatMoney(label.priceCents)}`}
            </li>
          ))}
          {(entry.mismatchedNotListed ?? 0) > 0 && <li>and {plural(entry.mismatchedNotListed ?? 0, 'more label')}</li>}
        </ul>
      )}
      {entry.waiting && entry.waiting.length > 0 && (
        <details class="campaign__waiting" data-testid="campaign-waiting">
          <summary>{plural(entry.waiting.length + (entry.waitingNotListed ?? 0), 'label')} still to show the price: why</summary>
          <ul>
            {entry.waiting.map((label) => (
              <li key={label.labelId} data-testid="waiting-label" data-label-id={label.labelId}>
                <strong>{productName(label.sku) ?? `SKU ${label.sku}`}</strong>
                {` — label ${label.labelId}: ${label.reason}`}
                {label.retryAt !== undefined && ` (next try ${formatClock(label.retryAt)})`}
              </li>
            ))}
            {(entry.waitingNotListed ?? 0) > 0 && <li>and {plural(entry.waitingNotListed ?? 0, 'more label')}</li>}
          </ul>
        </details>
      )}
      {entry.unmappedSkus && entry.unmappedSkus.length > 0 && (
        <p class="campaign__note">
          No label shows{' '}
          {entry.unmappedSkus
            .slice(0, 10)
            .map((sku) => productName(sku) ?? `SKU ${sku}`)
            .join(', ')}
          {entry.unmappedSkus.length > 10 ? ` and ${entry.unmappedSkus.length - 10} more` : ''}
        </p>
      )}
      {entry.skippedLabels && entry.skippedLabels.length > 0 && (
        <p class="campaign__note">
          {plural(entry.skippedLabels.length, 'label')} left out: {entry.skippedLabels[0]?.reason}
          {entry.skippedLabels.length > 1 ? ' (and others)' : ''}
        </p>
      )}
      {manage && (allowed.cancel || allowed.rollback || allowed.resend) && (
        <div class="campaign__actions">
          {asking ? (
            <div class="campaign__confirm" role="group" aria-label={ACTIONS[asking].button}>
              <p>{ACTIONS[asking].ask(title)}</p>
              <button
                type="button"
                class="button button--primary"
                data-testid={`campaign-${asking}-confirm`}
                aria-disabled={busy}
                onClick={() => !busy && void run(asking)}
              >
                {ACTIONS[asking].confirm}
              </button>
              <button type="button" class="button button--quiet" onClick={() => setAsking(null)}>
                Keep it as it is
              </button>
            </div>
          ) : (
            (['resend', 'cancel', 'rollback'] as const)
              .filter((action) => allowed[action])
              .map((action) => (
                <button key={action} type="button" class="button" data-testid={`campaign-${action}`} onClick={() => setAsking(action)}>
                  {ACTIONS[action].button}
                </button>
              ))
          )}
        </div>
      )}
      {problem && (
        <p class="campaign__problem" role="alert" data-testid="campaign-problem">
          {problem}
        </p>
      )}
    </li>
  );
});
