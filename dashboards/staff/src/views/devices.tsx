// The Devices view: every registered device by kind, the disconnected and the disabled first, connected as the live
// stream says now, last seen and battery; for admins (devices are store IT's) disable/enable and a new secret, each
// after a confirmation. The list is fetched (GET /api/devices) on open, every REFRESH_MS and after a change.
import { useCallback, useState } from 'preact/hooks';
import { plural } from '../format.js';
import { devices as liveDevices } from '../live.js';
import { principal } from '../session.js';
import { usePolledJson } from '../use-polled-json.js';
import { DeviceItem } from './devices/device-item.js';
import { deviceGroups, type DeviceView } from './devices/device-model.js';
import '../styles/devices.css';

/** Devices shown per kind at first and added per "Show more": a store's labels can be thousands of direct MQTT devices. */
const SHOWN_PER_KIND = 50;
/** Last seen and battery are asked for again this often (connected comes live from the stream). */
const REFRESH_MS = 60_000;

export function DevicesView() {
  const who = principal.value;
  const admin = who?.role === 'admin';
  const [shown, setShown] = useState<Readonly<Record<string, number>>>({});
  const devicesRead = usePolledJson<{ devices: DeviceView[] }>(who ? '/api/devices' : null, {
    refreshMs: REFRESH_MS,
    what: 'Devices',
    quietRefusal: true,
    readAgainFor: who?.name,
  });
  const { problem, reload, update } = devicesRead;
  const list = devicesRead.data?.devices ?? null;

  /** A change's answer (disable, enable) replaces that device at once; the next load brings the rest. */
  const changed = useCallback(
    (device: DeviceView) => update((data) => ({ devices: data.devices.map((known) => (known.id === device.id ? device : known)) })),
    [update],
  );

  const live = liveDevices.value;
  const groups = list ? deviceGroups(list, (id) => live.get(id)?.connected) : [];
  return (
    <section class="view devices" aria-labelledby="view-heading">
      <h2 id="view-heading" tabIndex={-1}>
        Devices
      </h2>
      <p class="devices__hint">
        {admin
          ? 'Disabling a device closes its connection and refuses it until enabled. A new secret is shown once.'
          : 'Devices are changed by store IT with an admin token.'}
      </p>
      {problem && (
        <p class="devices__problem" role="alert">
          {problem}
        </p>
      )}
      {!list ? (
        !problem && <p class="view__empty">Loading devices…</p>
      ) : groups.length === 0 ? (
        <p class="view__empty" data-testid="devices-empty">
          No devices registered yet.
        </p>
      ) : (
        groups.map((group) => {
          const limit = shown[group.kind] ?? SHOWN_PER_KIND;
          const headingId = `devices-${group.kind}`;
          return (
            <section key={group.kind} class="devices__group" aria-labelledby={headingId} data-testid="devices-group" data-kind={group.kind}>
              <h3 id={headingId}>
                {group.title}{' '}
                <span class="devices__count">
                  ({plural(group.rows.length, 'device')}
                  {group.disconnected > 0 ? `, ${group.disconnected} disconnected` : ''})
                </span>
              </h3>
              <ul class="devices__list">
                {group.rows.slice(0, limit).map((row) => (
                  <DeviceItem key={row.id} row={row} admin={admin} onChanged={changed} onRekeyed={reload} />
                ))}
              </ul>
              {group.rows.length > limit && (
                <button
                  type="button"
                  class="button devices__more"
                  onClick={() => setShown({ ...shown, [group.kind]: limit + SHOWN_PER_KIND })}
                >
                  Show more ({plural(group.rows.length - limit, 'device')} not shown)
                </button>
              )}
            </section>
          );
        })
      )}
    </section>
  );
}
