// One device: its id, status (connected live), last seen and battery; for admins disable/enable and a new secret,
// each asked for once more before it is sent. A new secret is shown once, with a copy button and what it means.
import { memo } from 'preact/compat';
import { useState } from 'preact/hooks';
import { ApiError, sendJson } from '../../api.js';
import { formatAge, formatDateTime } from '../../format.js';
import { now } from '../../live.js';
import { showNotice } from '../../notice.js';
import { STATUS_WORDS, batteryVolts, type DeviceRow, type DeviceView } from './device-model.js';

type Action = 'disable' | 'enable' | 'rotate-secret';
type Props = { row: DeviceRow; admin: boolean; onChanged: (device: DeviceView) => void; onRekeyed: () => void };

const ASK: Record<Action, { button: string; confirm: string; ask: (id: string) => string }> = {
  disable: {
    button: 'Disable',
    confirm: 'Yes, disable',
    ask: (id) => `Disable ${id}? Its connection closes now and it is refused until enabled again.`,
  },
  enable: { button: 'Enable', confirm: 'Yes, enable', ask: (id) => `Enable ${id}? It may connect again with its secret.` },
  'rotate-secret': {
    button: 'New secret',
    confirm: 'Yes, new secret',
    ask: (id) => `Give ${id} a new secret? Its connection closes and its old secret stops working: the device needs the new one.`,
  },
};

function DeviceItemView({ row, admin, onChanged, onRekeyed }: Props) {
  const [asking, setAsking] = useState<Action | null>(null);
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const battery = batteryVolts(row.batteryMv);
  const at = now.value;

  const act = async (action: Action) => {
    if (sending) return;
    setSending(true);
    setError(null);
    try {
      const path = `/api/devices/${encodeURIComponent(row.id)}/${action}`;
      if (action === 'rotate-secret') {
        const answer = await sendJson<{ secret: string }>('POST', path);
        setSecret(answer.secret);
        onRekeyed();
      } else {
        const device = await sendJson<DeviceView>('POST', path);
        onChanged(device);
        showNotice(`${row.id} ${action === 'disable' ? 'disabled' : 'enabled'}`);
      }
      setAsking(null);
    } catch (failure) {
      setError(`${ASK[action].button} failed: ${failure instanceof ApiError ? failure.message : 'try again'}.`);
    } finally {
      setSending(false);
    }
  };

  const headingId = `device-${row.id}`;
  return (
    <li class="device" data-testid="device-row" data-device-id={row.id} data-status={row.status} aria-labelledby={headingId}>
      <div class="device__head">
        <h4 class="device__id" id={headingId}>
          {row.id}
        </h4>
        <span class="device__status" data-status={row.status} data-testid="device-status">
          {STATUS_WORDS[row.status]}
        </span>
      </div>
      <p class="device__facts">
        {row.lastSeenAt === null ? (
          'Never connected'
        ) : (
          <>
            Last seen <time title={formatDateTime(row.lastSeenAt)}>{formatAge(row.lastSeenAt, at)}</time>
          </>
        )}
        {battery && <> · Battery {battery}</>}
        {row.unmapped && <> · Not a shelf of the planogram: its readings match no facing</>}
      </p>
      {admin && !secret && (
        <div class="device__actions" role="group" aria-label={`Change ${row.id}`}>
          {asking ? (
            <>
              <p class="device__ask">{ASK[asking].ask(row.id)}</p>
              <button
                type="button"
                class="button button--primary"
                data-testid={`device-${asking}-confirm`}
                aria-disabled={sending}
                onClick={() => void act(asking)}
              >
                {ASK[asking].confirm}
              </button>
              <button type="button" class="button button--quiet" onClick={() => setAsking(null)}>
                Cancel
              </button>
            </>
          ) : (
            <>
              <button
                type="button"
                class="button"
                data-testid={row.disabled ? 'device-enable' : 'device-disable'}
                onClick={() => setAsking(row.disabled ? 'enable' : 'disable')}
              >
                {row.disabled ? 'Enable' : 'Disable'}
              </button>
              <button type="button" class="button" data-testid="device-rotate-secret" onClick={() => setAsking('rotate-secret')}>
                New secret
              </button>
            </>
          )}
        </div>
      )}
      {error && (
        <p class="device__error" role="alert" data-testid="device-error">
          {error}
        </p>
      )}
      {secret && <SecretOnce deviceId={row.id} secret={secret} onDone={() => setSecret(null)} />}
    </li>
  );
}

/** The rows are rebuilt on every stream event: a device whose facts did not change is not rendered again. */
export const DeviceItem = memo(
  DeviceItemView,
  (before, after) =>
    before.admin === after.admin &&
    before.onChanged === after.onChanged &&
    before.onRekeyed === after.onRekeyed &&
    (['id', 'status', 'lastSeenAt', 'batteryMv', 'unmapped', 'disabled'] as const).every((key) => before.row[key] === after.row[key]),
);

function SecretOnce({ deviceId, secret, onDone }: { deviceId: string; secret: string; onDone: () => void }) {
  const [copied, setCopied] = useState<string | null>(null);
  const inputId = `secret-${deviceId}`;
  const copy = async (event: Event) => {
    const input = (event.currentTarget as HTMLElement).parentElement?.querySelector('input');
    try {
      await navigator.clipboard.writeText(secret);
      setCopied('Copied.');
    } catch {
      // no clipboard outside a secure context (plain HTTP to the gateway's address): select it for the person to copy
      input?.select();
      setCopied('Selected: copy it with Ctrl+C (or long-press on a tablet).');
    }
  };
  return (
    <div class="device__secret" data-testid="device-secret" role="group" aria-label={`New secret of ${deviceId}`}>
      <p class="device__warning" role="alert">
        The new secret of {deviceId} is shown only now: put it on the device before you close this. Its old secret no longer works.
      </p>
      <label for={inputId}>Secret</label>
      <input id={inputId} type="text" readOnly value={secret} data-testid="device-secret-value" spellcheck={false} autocomplete="off" />
      <button type="button" class="button" data-testid="device-secret-copy" onClick={(event) => void copy(event)}>
        Copy
      </button>
      <button type="button" class="button button--quiet" onClick={onDone}>
        Done
      </button>
      {copied && <p role="status">{copied}</p>}
    </div>
  );
}
