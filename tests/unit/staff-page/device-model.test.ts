import { describe, expect, it } from 'vitest';
import { batteryVolts, deviceGroups, type DeviceView } from '../../../dashboards/staff/src/views/devices/device-model.js';

const device = (id: string, kind: string, over: Partial<DeviceView> = {}): DeviceView => ({
  id,
  kind,
  connected: true,
  disabled: false,
  lastSeenAt: 1_000,
  ...over,
});

describe('device view model', () => {
  it('groups by kind in a fixed order, the disconnected first, then the disabled, then by id in number order', () => {
    const groups = deviceGroups(
      [
        device('kiosk-1', 'kiosk'),
        device('shelf-10', 'shelf'),
        device('shelf-2', 'shelf'),
        device('shelf-3', 'shelf', { disabled: true, connected: false }),
        device('shelf-4', 'shelf', { connected: false }),
        device('gizmo-1', 'gizmo'),
      ],
      () => undefined,
    );
    expect(groups.map((group) => [group.title, group.rows.map((row) => `${row.id}:${row.status}`), group.disconnected])).toEqual([
      ['Smart shelves', ['shelf-4:disconnected', 'shelf-3:disabled', 'shelf-2:connected', 'shelf-10:connected'], 1],
      ['Self-checkout kiosks', ['kiosk-1:connected'], 0],
      ['Devices of kind gizmo', ['gizmo-1:connected'], 0],
    ]);
  });

  it('takes connected from the live stream over the fetched list', () => {
    const live = new Map([['shelf-1', false]]);
    const [group] = deviceGroups([device('shelf-1', 'shelf'), device('shelf-2', 'shelf', { connected: false })], (id) => live.get(id));
    expect(group!.rows.map((row) => [row.id, row.connected, row.status])).toEqual([
      ['shelf-1', false, 'disconnected'],
      ['shelf-2', false, 'disconnected'],
    ]);
  });

  it('writes a battery in volts, none where the device reports none', () => {
    expect(batteryVolts(2_870)).toBe('2.87 V');
    expect(batteryVolts(undefined)).toBeNull();
  });
});
