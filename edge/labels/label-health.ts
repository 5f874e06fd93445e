/**
 * Label health, pure (time is a parameter): what the labels room knows of each label (last seen, battery, what it
 * shows) and what that means — `offline` after missed check-ins, `battery-low` below the configured mV — and the
 * `label-offline` / `label-battery-low` alerts that follow, opened and resolved by the condition alone.
 */
import { labelAlertKey, type NewAlert } from '../alerts/alerts.js';
import type { LabelHealthThresholds } from './labels-config.js';

export type LabelSighting = {
  labelId: string;
  /** the driver that reported the label last */
  driverId?: string;
  /** when the labels room started tracking it (a bound label never seen counts its missed check-ins from here) */
  trackedSince: number;
  lastSeenAt?: number;
  /** null: unknown (OpenEPaperLink reports 0 for unknown, 1337 for a virtual tag) */
  batteryMv: number | null;
  displayedPriceCents?: number;
};

export type LabelCondition = 'ok' | 'offline' | 'battery-low' | 'never-seen';

export type LabelHealth = { offline: boolean; batteryLow: boolean; condition: LabelCondition };

/** How long without a check-in makes a label offline. */
export function offlineAfterMs(thresholds: Pick<LabelHealthThresholds, 'checkInIntervalMs' | 'missedCheckIns'>): number {
  return thresholds.checkInIntervalMs * thresholds.missedCheckIns;
}

export function labelHealth(label: LabelSighting, thresholds: LabelHealthThresholds, now: number): LabelHealth {
  const offline = now - (label.lastSeenAt ?? label.trackedSince) > offlineAfterMs(thresholds);
  const batteryLow = label.batteryMv !== null && label.batteryMv < thresholds.lowBatteryMv;
  // offline first: a silent label's last battery reading is old news
  const condition: LabelCondition = offline ? 'offline' : label.lastSeenAt === undefined ? 'never-seen' : batteryLow ? 'battery-low' : 'ok';
  return { offline, batteryLow, condition };
}

/** The sighting after a check-in: seen now, with the battery and price it reported (an unknown battery keeps the last known). */
export function checkedIn(
  label: LabelSighting,
  event: { driverId: string; at: number; batteryMv: number | null; displayedPriceCents?: number },
): LabelSighting {
  return {
    ...label,
    driverId: event.driverId,
    lastSeenAt: Math.max(label.lastSeenAt ?? event.at, event.at),
    batteryMv: event.batteryMv ?? label.batteryMv,
    ...(event.displayedPriceCents !== undefined ? { displayedPriceCents: event.displayedPriceCents } : {}),
  };
}

export const LABEL_BACK_ONLINE = 'label checked in again';
export const LABEL_BATTERY_OK = 'battery back above the threshold (replaced)';

export type LabelAlertAction = { raise: NewAlert } | { resolve: string; resolution: string };

/**
 * What the alerts should be for one label: raise the ones its condition calls for (the alert service keeps one per key,
 * so raising an open alert again changes nothing) and resolve the ones it no longer does. `active(key)` says whether
 * such an alert is active now, so a healthy label costs no alert-service call.
 */
export function labelAlertActions(
  label: LabelSighting,
  health: LabelHealth,
  place: { shelfId?: string; facing?: number; sku?: string; productName?: string },
  thresholds: LabelHealthThresholds,
  active: (key: string) => boolean,
): LabelAlertAction[] {
  const actions: LabelAlertAction[] = [];
  const offlineKey = labelAlertKey('label-offline', label.labelId);
  const batteryKey = labelAlertKey('label-battery-low', label.labelId);
  // the product first: it is what a person looks for on the shelf
  const parts = [place.productName, place.shelfId !== undefined ? `${place.shelfId}/${place.facing}` : undefined];
  const named = parts.filter((part) => part !== undefined);
  const where = named.length > 0 ? ` (${named.join(', ')})` : '';
  const context = { deviceId: label.labelId, ...definedPlace(place) };
  if (health.offline) {
    if (!active(offlineKey)) {
      const silentS = Math.round(offlineAfterMs(thresholds) / 1000);
      actions.push({
        raise: {
          kind: 'label-offline',
          key: offlineKey,
          severity: 'warning',
          title: `Label ${label.labelId}${where} has not checked in for over ${silentS} s`,
          ...context,
        },
      });
    }
  } else if (active(offlineKey)) actions.push({ resolve: offlineKey, resolution: LABEL_BACK_ONLINE });
  // a battery reading is only news while the label reports: an offline label keeps its battery alert as it was
  if (health.batteryLow && !health.offline) {
    if (!active(batteryKey)) {
      actions.push({
        raise: {
          kind: 'label-battery-low',
          key: batteryKey,
          severity: 'warning',
          title: `Label ${label.labelId}${where} battery low: ${label.batteryMv} mV (below ${thresholds.lowBatteryMv} mV)`,
          ...context,
        },
      });
    }
  } else if (!health.batteryLow && active(batteryKey)) actions.push({ resolve: batteryKey, resolution: LABEL_BATTERY_OK });
  return actions;
}

function definedPlace(place: { shelfId?: string; facing?: number; sku?: string }): { shelfId?: string; facing?: number; sku?: string } {
  const out: { shelfId?: string; facing?: number; sku?: string } = {};
  if (place.shelfId !== undefined) out.shelfId = place.shelfId;
  if (place.facing !== undefined) out.facing = place.facing;
  if (place.sku !== undefined) out.sku = place.sku;
  return out;
}
