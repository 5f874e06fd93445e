// Acknowledge, snooze and resolve: one write per alert at a time, its answer applied at once (the stream confirms it
// later). A refused write asks for a token and runs again as the person who signs in.
import { signal } from '@preact/signals';
import type { Alert, AlertState } from '../../../../../edge/alerts/alerts.js';
import { ApiError, getJson, sendJson } from '../../api.js';
import { alerts, applyAlert, forgetAlert } from '../../live.js';
import { showNotice } from '../../notice.js';

export const SNOOZE_MINUTES = 15;

export type AlertAction = 'ack' | 'snooze' | 'resolve';

export const ACTIONS: Readonly<Record<AlertAction, { label: string; testId: string; done: string }>> = {
  ack: { label: 'Acknowledge', testId: 'ack-button', done: 'Acknowledged' },
  snooze: { label: `Snooze ${SNOOZE_MINUTES} min`, testId: 'snooze-button', done: 'Snoozed' },
  resolve: { label: 'Resolve', testId: 'resolve-button', done: 'Resolved' },
};

/** Which buttons each state offers, in display order. */
export const ACTIONS_BY_STATE: Readonly<Record<AlertState, readonly AlertAction[]>> = {
  open: ['ack', 'snooze', 'resolve'],
  acknowledged: ['snooze', 'resolve'],
  snoozed: ['resolve'],
  resolved: [],
};

/** ids of alerts with a write in flight (bounded by the active alerts: one write per alert) */
export const pendingWrites = signal<ReadonlySet<string>>(new Set());

function setPending(alertId: string, pending: boolean): void {
  const next = new Set(pendingWrites.value);
  if (pending) next.add(alertId);
  else next.delete(alertId);
  pendingWrites.value = next;
}

/** After a 404/409 our copy is stale: take the gateway's. */
async function refreshAlert(alertId: string): Promise<void> {
  try {
    applyAlert(await getJson<Alert>(`/api/alerts/${encodeURIComponent(alertId)}`));
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) forgetAlert(alertId);
    // unreachable: the next snapshot brings it
  }
}

export async function runAlertAction(alertId: string, action: AlertAction): Promise<void> {
  const alert = alerts.value.get(alertId);
  if (!alert || pendingWrites.value.has(alertId)) return;
  setPending(alertId, true);
  try {
    const body = action === 'snooze' ? { minutes: SNOOZE_MINUTES } : {};
    const answer = await sendJson<Alert>('POST', `/api/alerts/${encodeURIComponent(alertId)}/${action}`, body, {
      retryAfterSignIn: () => void runAlertAction(alertId, action),
    });
    if (answer?.id === alertId) applyAlert(answer);
    showNotice(`${ACTIONS[action].done}: ${alert.title}`);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    // refused: api.ts asked for a token, and the write runs again once one is given
    if (error.refused) return;
    if (error.status === 0) {
      showNotice('Could not reach the gateway; try again.', 'error');
      return;
    }
    showNotice(`Could not ${ACTIONS[action].label.toLowerCase()}: ${error.message}`, 'error');
    if (error.status === 404 || error.status === 409) void refreshAlert(alertId);
  } finally {
    setPending(alertId, false);
  }
}
