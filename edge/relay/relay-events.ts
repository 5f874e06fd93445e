/**
 * THE table of what goes to HQ: for each bus event (the rooms' events.ts), the CloudEvents type(s) it becomes, their
 * class (which budget and drain priority) and subject, and how the data is made. Read `RELAY_ROUTES` top to bottom to
 * know everything a store sends; relay-recorder.ts only subscribes these routes and appends what they return.
 *
 * Some routes keep state, all bounded (`RelayRouteState`): kiosk baskets to assemble transactions, the last stock sent
 * per facing (change-only), and the hourly weight aggregates. Raw shelf readings never go to HQ.
 */
import type { GatewayEvents } from '../core/events.js';
import { KioskBaskets, type KioskBasketLimits } from './kiosk-baskets.js';
import type { RelayClass } from './outbox.js';
import { HourlyWeightAggregates } from './telemetry-aggregates.js';

/** Every type the store sends, and its class. */
export const RELAY_TYPES = {
  'store.alert.changed': 'critical',
  'store.kiosk.event': 'critical',
  'store.kiosk.transaction': 'critical',
  /** what the outbox dropped over budget (written by the outbox itself, see outbox-store.ts) */
  'store.relay.dropped': 'critical',
  /** the result of a command HQ sent down (written by the relay's HQ command handler, hq-commands.ts) */
  'store.command.result': 'critical',
  'store.stock.changed': 'operational',
  'store.availability': 'operational',
  'store.device.health': 'operational',
  'store.device.command': 'operational',
  'store.telemetry.hourly': 'telemetry',
} as const satisfies Record<string, RelayClass>;
export type RelayType = keyof typeof RELAY_TYPES;

/** One event for HQ before its envelope (cloud-event.ts adds id, source, time). */
export type RelayOutput = { type: RelayType; relayClass: RelayClass; subject: string; data: unknown };

export function relayOutput(type: RelayType, subject: string, data: unknown): RelayOutput {
  return { type, relayClass: RELAY_TYPES[type], subject, data };
}

export type RelayRouteLimits = KioskBasketLimits & { maxStockFacings: number; maxAggregateFacings: number };

/** The bounded state of the stateful routes. */
export class RelayRouteState {
  readonly baskets: KioskBaskets;
  readonly aggregates: HourlyWeightAggregates;
  /** `<shelfId>/<facing>` → what HQ last got; at most `maxStockFacings` (beyond, changes are sent unfiltered) */
  private readonly lastStock = new Map<string, { units: number | null; level: string; source: string | null }>();

  constructor(private readonly limits: RelayRouteLimits) {
    this.baskets = new KioskBaskets(limits);
    this.aggregates = new HourlyWeightAggregates(limits.maxAggregateFacings);
  }

  /** Whether units, level or source differ from what was last sent for the facing; remembers them if so. */
  stockChanged(shelfId: string, facing: number, units: number | null, level: string, source: string | null): boolean {
    const key = `${shelfId}/${facing}`;
    const last = this.lastStock.get(key);
    if (last && last.units === units && last.level === level && last.source === source) return false;
    if (last) {
      last.units = units;
      last.level = level;
      last.source = source;
    } else if (this.lastStock.size < this.limits.maxStockFacings) {
      this.lastStock.set(key, { units, level, source });
    }
    return true;
  }
}

type Translation = RelayOutput | readonly RelayOutput[] | undefined;

/** A route: one bus event, the handler name it subscribes under, what it sends, and the translation. */
export type RelayRoute = {
  [K in keyof GatewayEvents]: {
    event: K;
    /** the bus handler name (label of smartstore_event_handler_errors_total) */
    handler: string;
    /** what this route sends, for readers (and a test that every type is produced by some route) */
    sends: readonly { type: RelayType; when: string }[];
    /** wait with the device's PUBACK until what this route appended is durable (QoS 1 kiosk publishes) */
    holdsAck?: boolean;
    translate(payload: GatewayEvents[K], state: RelayRouteState, now: number): Translation;
  };
}[keyof GatewayEvents];

export const RELAY_ROUTES: readonly RelayRoute[] = [
  {
    event: 'alert.changed',
    handler: 'relay.alerts',
    sends: [{ type: 'store.alert.changed', when: 'every alert change (opened, units, severity, state)' }],
    translate: ({ alert, previous }) =>
      relayOutput('store.alert.changed', `alert/${alert.id}`, { ...alert, previousState: previous?.state ?? null }),
  },
  {
    event: 'device.message:kiosk/event',
    handler: 'relay.kiosk',
    sends: [
      { type: 'store.kiosk.event', when: 'every kiosk event' },
      { type: 'store.kiosk.transaction', when: 'basket-closed: the basket with items, total and payment result' },
    ],
    holdsAck: true,
    translate: (message, state, now) => {
      const kioskId = message.deviceId;
      const event = relayOutput('store.kiosk.event', `kiosk/${kioskId}`, { kioskId, ...message.payload, receivedAt: message.receivedAt });
      const transaction = state.baskets.onEvent(kioskId, message.payload, now);
      if (!transaction) return event;
      return [event, relayOutput('store.kiosk.transaction', `kiosk/${kioskId}/basket/${transaction.basketId ?? 'unknown'}`, transaction)];
    },
  },
  {
    event: 'stock.changed',
    handler: 'relay.stock',
    sends: [{ type: 'store.stock.changed', when: "a facing's units, level or source differ from what HQ last got (either cause)" }],
    // both causes: a facing turns `low` (debounced, cause 'level') often without a unit change, and HQ's availability
    // view must say `low` when the store's does
    translate: ({ view, cause }, state) => {
      if (!state.stockChanged(view.shelfId, view.facing, view.units, view.level, view.source)) return undefined;
      return relayOutput('store.stock.changed', `facing/${view.shelfId}/${view.facing}`, {
        shelfId: view.shelfId,
        facing: view.facing,
        sku: view.sku,
        units: view.units,
        capacityUnits: view.capacityUnits,
        level: view.level,
        source: view.source,
        updatedAt: view.updatedAt,
        cause,
      });
    },
  },
  {
    event: 'insight.availability',
    handler: 'relay.availability',
    sends: [{ type: 'store.availability', when: "a sku's units for online orders changed (coalesced per sku by the insight room)" }],
    // change-only and coalesced already (edge/insight/availability.ts): every event is one HQ needs
    translate: (availability) => relayOutput('store.availability', `sku/${availability.sku}`, availability),
  },
  {
    event: 'device.connection',
    handler: 'relay.device-connection',
    sends: [{ type: 'store.device.health', when: 'a device connected or disconnected' }],
    translate: ({ deviceId, kind, source, connected, at }) =>
      relayOutput('store.device.health', `device/${deviceId}`, {
        deviceId,
        kind,
        change: connected ? 'connected' : 'disconnected',
        transport: source,
        at,
      }),
  },
  {
    event: 'device.lifecycle',
    handler: 'relay.device-lifecycle',
    sends: [{ type: 'store.device.health', when: 'store IT added, disabled, enabled, re-keyed or removed a device' }],
    translate: ({ deviceId, kind, change, at }) => relayOutput('store.device.health', `device/${deviceId}`, { deviceId, kind, change, at }),
  },
  {
    event: 'command.result',
    handler: 'relay.commands',
    sends: [{ type: 'store.device.command', when: 'a command to a device ended (confirmed, rejected, timed out, dropped)' }],
    translate: (result) => relayOutput('store.device.command', `device/${result.deviceId}`, result),
  },
  {
    event: 'device.message:shelf/weight',
    handler: 'relay.telemetry',
    sends: [
      { type: 'store.telemetry.hourly', when: 'at each hour boundary (timer), one per shelf: per facing count, min, max, mean weightG' },
    ],
    // the hot path: updates the facing's aggregate in place and sends nothing
    translate: (message, state) => {
      state.aggregates.record(message.deviceId, message.payload.facing, message.payload.weightG);
      return undefined;
    },
  },
];
