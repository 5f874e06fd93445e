// What the Devices view shows, pure (tests/unit/staff-page/device-model.test.ts): devices grouped by kind, the ones
// that should be connected but are not first, then the disabled, then the connected; connected as the live stream
// says now (it wins over the list the view fetched); the battery where the device reports one.
import { naturalCompare } from '../../../../../edge/core/natural-order.js';
import type { DeviceView } from '../../../../../edge/device-registry/device-schemas.js';
import type { DeviceKind } from '../../../../../edge/device-registry/topics.js';

export type { DeviceView };
export type DeviceStatus = 'disconnected' | 'disabled' | 'connected';
export type DeviceRow = DeviceView & { status: DeviceStatus };
export type DeviceGroup = { kind: string; title: string; rows: DeviceRow[]; disconnected: number };

const KIND_TITLES: Record<DeviceKind, string> = {
  shelf: 'Smart shelves',
  esl: 'Shelf labels (direct MQTT)',
  kiosk: 'Self-checkout kiosks',
  case: 'Refrigerated cases',
  ap: 'Label access points',
};
const KIND_ORDER: readonly string[] = Object.keys(KIND_TITLES);

export const STATUS_WORDS: Record<DeviceStatus, string> = {
  disconnected: 'Disconnected',
  disabled: 'Disabled',
  connected: 'Connected',
};
const STATUS_RANK: Record<DeviceStatus, number> = { disconnected: 0, disabled: 1, connected: 2 };

export function kindTitle(kind: string): string {
  return (KIND_TITLES as Record<string, string>)[kind] ?? `Devices of kind ${kind}`;
}

export function statusOf(device: Pick<DeviceView, 'connected' | 'disabled'>): DeviceStatus {
  // a disabled device is refused: not being connected is what it should be
  if (device.disabled) return 'disabled';
  return device.connected ? 'connected' : 'disconnected';
}

/**
 * The devices by kind (known kinds in a fixed order, others after), each kind worst first, then by id (numbers in
 * ids in their order: shelf-2 before shelf-10). `liveConnected` is what the stream said last, by device id.
 */
export function deviceGroups(devices: readonly DeviceView[], liveConnected: (id: string) => boolean | undefined): DeviceGroup[] {
  const byKind = new Map<string, DeviceRow[]>();
  for (const device of devices) {
    const connected = liveConnected(device.id) ?? device.connected;
    const row: DeviceRow = { ...device, connected, status: statusOf({ connected, disabled: device.disabled }) };
    const rows = byKind.get(device.kind);
    if (rows) rows.push(row);
    else byKind.set(device.kind, [row]);
  }
  const rank = (kind: string) => (KIND_ORDER.includes(kind) ? KIND_ORDER.indexOf(kind) : KIND_ORDER.length);
  return [...byKind.entries()]
    .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b))
    .map(([kind, rows]) => ({
      kind,
      title: kindTitle(kind),
      rows: rows.sort((a, b) => STATUS_RANK[a.status] - STATUS_RANK[b.status] || naturalCompare(a.id, b.id)),
      disconnected: rows.filter((row) => row.status === 'disconnected').length,
    }));
}

/** "2.95 V", or null where the device reports no battery. */
export function batteryVolts(batteryMv: number | undefined): string | null {
  return batteryMv === undefined ? null : `${(batteryMv / 1000).toFixed(2)} V`;
}
