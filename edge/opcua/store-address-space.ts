/**
 * The store as an OPC UA address space, built by one function from the domain model. Every node has a stable string
 * NodeId in the server's own namespace (ns=1) so clients can bookmark them:
 *
 *   ns=1;s=store                                  Store (Objects/Store), property storeId
 *   ns=1;s=store/shelves                          folder of shelves
 *   ns=1;s=shelf/<shelfId>                        one shelf
 *   ns=1;s=shelf/<shelfId>/facing/<n>             one facing, with the variables
 *       …/sku  …/productName  …/units  …/fillPercent  …/weightG  …/level
 *   ns=1;s=scale/<shelfId>/<n>                    the facing's OPC 40200 SimpleScaleType in DeviceSet (when the Scales
 *       …-CurrentWeight  …-CurrentWeight-Gross …  nodeset is loaded; facing-scales.ts), organized by the facing
 *   ns=1;s=store/kiosks                           folder of kiosks
 *   ns=1;s=kiosk/<kioskId>                        …/state  …/lastEvent  …/lastEventAt  …/connected
 *   ns=1;s=store/availability                     folder "Availability" (when the insight room is enabled): one
 *   ns=1;s=availability/<sku>                     Double per sku of the planogram (browse name: the sku), the units
 *                                                 HQ may promise online (GET /api/availability), on each change
 *   ns=1;s=store/alerts                           folder of the active alerts
 *   ns=1;s=alert/<alertId>                        …/kind …/state …/severity …/title …/units …/openedAt; methods
 *       …/Acknowledge()  …/Resolve(note)          through the same AlertService as HTTP, `by` = the OPC UA user
 *   ns=1;s=alert/<alertId>/condition              the alert as an A&C StoreAlertAlarmType condition (alert-conditions.ts):
 *                                                 events on the Server object, standard Acknowledge/Confirm, refresh
 *
 * A value not known yet (a facing before its first reading, a kiosk before its first status) reads as
 * BadDataUnavailable, not 0. Values are pushed by `StoreAddressSpace` (the module feeds it from the event bus); the
 * live weight is read on demand from the stock room's memory, so shelf readings cost the server nothing.
 *
 * This module imports node-opcua: only opcua/module.ts loads it, lazily, when the server is enabled.
 */
import type { AddressSpace, ISessionContext, UAObject, UAVariable } from 'node-opcua-address-space';
import { DataValue } from 'node-opcua-data-value';
import { StatusCodes } from 'node-opcua-status-code';
import type { CallMethodResultOptions } from 'node-opcua-types';
import { DataType, Variant } from 'node-opcua-variant';
import { buildAlertConditions, callerName } from './alert-conditions.js';
import { facingScales } from './facing-scales.js';

export { SCALES_NAMESPACE_URI } from './facing-scales.js';

/*
 * What the address space is built from, as structural types of its own: the rooms' types (PlanogramIndex,
 * FacingStockView, LiveWeight, Alert, DeviceSummary) fit them, and this room does not have to know them all.
 */

/** The planogram as far as the address space shows it (PlanogramIndex fits). */
export type StorePlanogram = {
  planogram: { facings: ReadonlyArray<{ shelfId: string; facing: number; sku: string; capacityUnits: number; tareG: number }> };
  product(sku: string): { name: string; unitWeightG: number } | undefined;
};
/** A facing as staff see it (the stock room's FacingState fits). */
export type FacingState = { shelfId: string; facing: number; units: number | null; level: string; updatedAt: number | null };
/** A facing's load cell now (the stock room's WeightNow fits). */
export type WeightNow = { weightG: number; tareG: number; stable: boolean; at: number };
export type KioskInfo = { id: string; kind: string };
/** An alert as the address space shows it (the alerts room's Alert fits). */
export type AlertInfo = {
  id: string;
  kind: string;
  state: string;
  severity: string;
  title: string;
  shelfId?: string;
  facing?: number;
  sku?: string;
  deviceId?: string;
  units?: number;
  openedAt: number;
  updatedAt: number;
  acknowledgedBy?: string;
};
/** What an alert method did: done, or refused as HTTP refuses it (409: not in a state for it; 404: no such alert). */
export type AlertActionOutcome = { ok: true } | { ok: false; reason: 'invalid-state' | 'not-found' };

/** A sku's units for online orders (the insight room's SkuAvailability fits). */
export type SkuAvailabilityInfo = { sku: string; availableUnits: number; unknownFacings: number; at: number };

/** What the address space is built from and what its methods act on — the domain, as plain functions. */
export type StoreModel = {
  storeId: string;
  planogram: StorePlanogram;
  /** a facing as staff see it now (units, level), undefined before the stock room started */
  facing: (shelfId: string, facing: number) => FacingState | undefined;
  /** a facing's load cell now, read on demand (never pushed: readings are the hot path) */
  liveWeight: (shelfId: string, facing: number) => WeightNow | undefined;
  kiosks: readonly KioskInfo[];
  isConnected: (deviceId: string) => boolean;
  activeAlerts: readonly AlertInfo[];
  /** every sku's availability now; undefined (or absent): the insight room is disabled, no Availability folder */
  availability?: () => readonly SkuAvailabilityInfo[] | undefined;
  /** the same calls the HTTP routes make (edge/alerts/routes.ts) */
  /** Good is answered once the change and its audit entry are committed (a method result is a promise, as a 2xx is) */
  acknowledgeAlert: (id: string, by: string) => AlertActionOutcome | Promise<AlertActionOutcome>;
  resolveAlert: (id: string, by: string, note?: string) => AlertActionOutcome | Promise<AlertActionOutcome>;
};

export type StoreAddressSpaceOptions = {
  /** how often a client may sample the on-demand weight, ms */
  weightSamplingMs?: number;
  /** at most this many alert objects; more are counted, not shown (one active alert per facing/kiosk keeps it low) */
  maxAlertNodes?: number;
  /** a method call that failed unexpectedly (logged by the caller) */
  onMethodError?: (method: string, alertId: string, error: unknown) => void;
};

const unavailable = () => new DataValue({ statusCode: StatusCodes.BadDataUnavailable });

/** The pushed side of the address space: the module calls these from bus events. */
export type StoreAddressSpace = {
  facingChanged(view: FacingState): void;
  sensorFault(shelfId: string, facing: number, faulty: boolean): void;
  kioskAdded(kiosk: KioskInfo): void;
  kioskRemoved(kioskId: string): void;
  kioskStatus(kioskId: string, state: string, at: number): void;
  kioskEvent(kioskId: string, type: string, at: number): void;
  kioskConnection(kioskId: string, connected: boolean, at: number): void;
  alertChanged(alert: AlertInfo): void;
  /** a sku's availability changed (nothing for a sku not in the planogram, or without the Availability folder) */
  availabilityChanged(availability: SkuAvailabilityInfo): void;
  /** alerts not shown because of `maxAlertNodes` */
  readonly droppedAlerts: number;
  /**
   * Adds the facings' OPC 40200 scales to DeviceSet (nothing when the Scales nodeset is not loaded), `batchSize` at a
   * time with a turn of the event loop between batches; resolves with how many were added, early when `signal` aborts.
   * Not part of the build: node-opcua instantiates a scale (15 nodes cloned from SimpleScaleType) in about 3 ms, four
   * times a whole facing, so 1,000 of them would hold start-up and the event loop for seconds.
   */
  addScales(options: { batchSize: number; signal?: AbortSignal }): Promise<number>;
  /** scales not added yet */
  readonly scalesPending: number;
};

type FacingNodes = { units: UAVariable; fillPercent: UAVariable; level: UAVariable; capacityUnits: number };
type AlertNodes = { object: UAObject; values: Map<string, UAVariable> };
type KioskNodes = { object: UAObject; state: UAVariable; lastEvent: UAVariable; lastEventAt: UAVariable; connected: UAVariable };

/** Builds Store → Shelves → Facings, Kiosks, Alerts in the server's own namespace and returns what keeps it current. */
export function buildStoreAddressSpace(
  addressSpace: AddressSpace,
  model: StoreModel,
  options: StoreAddressSpaceOptions = {},
): StoreAddressSpace {
  const ns = addressSpace.getOwnNamespace();
  const id = (path: string) => `ns=${ns.index};s=${path}`;
  const weightSamplingMs = options.weightSamplingMs ?? 100;
  const maxAlertNodes = options.maxAlertNodes ?? 5_000;
  // OPC 40200: each facing also a scale in DeviceSet, when the Scales nodeset is loaded (facing-scales.ts)
  const scales = facingScales(addressSpace, ns, { storeId: model.storeId, weightSamplingMs });

  // eventNotifier 1 (SubscribeToEvents): the alert conditions' events go through the Store to the Server object
  const store = ns.addObject({ browseName: 'Store', nodeId: id('store'), organizedBy: addressSpace.rootFolder.objects, eventNotifier: 1 });
  ns.addVariable({
    propertyOf: store,
    browseName: 'storeId',
    nodeId: id('store/storeId'),
    dataType: DataType.String,
    value: { dataType: DataType.String, value: model.storeId },
  });
  const folder = (name: string, path: string) =>
    ns.addObject({ browseName: name, nodeId: id(path), typeDefinition: 'FolderType', componentOf: store });
  const shelvesFolder = folder('Shelves', 'store/shelves');
  const kiosksFolder = folder('Kiosks', 'store/kiosks');
  const alertsFolder = folder('Alerts', 'store/alerts');
  // No Labels folder: a store's 50,000 labels would be some 200,000 nodes (node-opcua builds ~30 µs each: seconds of
  // start-up); a label's shown price, battery and last check-in are on GET /api/labels and its alerts are here.

  const variable = (parent: UAObject, path: string, name: string, dataType: DataType, extra: Record<string, unknown> = {}): UAVariable =>
    ns.addVariable({
      componentOf: parent,
      browseName: name,
      nodeId: id(`${path}/${name}`),
      dataType,
      minimumSamplingInterval: 0,
      ...extra,
    });
  const constant = (parent: UAObject, path: string, name: string, value: string | number) =>
    variable(parent, path, name, typeof value === 'string' ? DataType.String : DataType.Double, {
      value: { dataType: typeof value === 'string' ? DataType.String : DataType.Double, value },
    });
  const push = (node: UAVariable, dataType: DataType, value: unknown, at: number | null) => {
    if (value === null || value === undefined) node.setValueFromSource({ dataType: DataType.Null }, StatusCodes.BadDataUnavailable);
    else node.setValueFromSource({ dataType, value }, StatusCodes.Good, at === null ? new Date() : new Date(at));
  };

  // ---- shelves and facings
  const facings = new Map<string, FacingNodes>();
  const faulty = new Set<string>();
  const shelfObjects = new Map<string, UAObject>();
  const facingObjects = new Map<string, UAObject>();
  // one per facing of the planogram (bounded by it), added by addScales()
  const pendingScales: Array<() => void> = [];
  for (const plan of model.planogram.planogram.facings) {
    let shelf = shelfObjects.get(plan.shelfId);
    if (!shelf) {
      shelf = ns.addObject({ browseName: plan.shelfId, nodeId: id(`shelf/${plan.shelfId}`), organizedBy: shelvesFolder });
      shelfObjects.set(plan.shelfId, shelf);
    }
    const path = `shelf/${plan.shelfId}/facing/${plan.facing}`;
    const key = `${plan.shelfId}/${plan.facing}`;
    const facing = ns.addObject({ browseName: `facing-${plan.facing}`, nodeId: id(path), componentOf: shelf });
    facingObjects.set(key, facing);
    constant(facing, path, 'sku', plan.sku);
    constant(facing, path, 'productName', model.planogram.product(plan.sku)?.name ?? plan.sku);
    constant(facing, path, 'capacityUnits', plan.capacityUnits);
    const nodes: FacingNodes = {
      units: variable(facing, path, 'units', DataType.Double),
      fillPercent: variable(facing, path, 'fillPercent', DataType.Double),
      level: variable(facing, path, 'level', DataType.String),
      capacityUnits: plan.capacityUnits,
    };
    facings.set(key, nodes);
    const live = () => model.liveWeight(plan.shelfId, plan.facing);
    const weighed = (value: (w: WeightNow) => Variant) => () => {
      const w = live();
      return w
        ? new DataValue({ value: value(w), statusCode: StatusCodes.Good, sourceTimestamp: new Date(w.at), serverTimestamp: new Date() })
        : unavailable();
    };
    const double = (pick: (w: WeightNow) => number) => weighed((w) => new Variant({ dataType: DataType.Double, value: pick(w) }));
    variable(facing, path, 'weightG', DataType.Double, {
      minimumSamplingInterval: weightSamplingMs,
      value: { timestamped_get: double((w) => w.weightG) },
    });

    const unitWeightG = model.planogram.product(plan.sku)?.unitWeightG ?? 0;
    if (scales) pendingScales.push(() => scales.add({ ...plan, unitWeightG }, facing, live, () => faulty.has(key)));
  }
  let scalesAdded = 0;
  const addScales = async ({ batchSize, signal }: { batchSize: number; signal?: AbortSignal }): Promise<number> => {
    const before = scalesAdded;
    while (scalesAdded < pendingScales.length && !signal?.aborted) {
      const end = Math.min(pendingScales.length, scalesAdded + Math.max(1, batchSize));
      for (; scalesAdded < end; scalesAdded++) (pendingScales[scalesAdded] as () => void)();
      if (scalesAdded < pendingScales.length) await new Promise((resolve) => setImmediate(resolve));
    }
    return scalesAdded - before;
  };

  const facingChanged = (view: FacingState) => {
    const nodes = facings.get(`${view.shelfId}/${view.facing}`);
    if (!nodes) return;
    push(nodes.units, DataType.Double, view.units, view.updatedAt);
    const fill = view.units === null ? null : Math.round((1000 * view.units) / Math.max(1, nodes.capacityUnits)) / 10;
    push(nodes.fillPercent, DataType.Double, fill, view.updatedAt);
    push(nodes.level, DataType.String, view.level === 'unknown' ? null : view.level, view.updatedAt);
  };
  for (const plan of model.planogram.planogram.facings) {
    const view = model.facing(plan.shelfId, plan.facing);
    const nodes = facings.get(`${plan.shelfId}/${plan.facing}`) as FacingNodes;
    if (view) facingChanged(view);
    else for (const node of [nodes.units, nodes.fillPercent, nodes.level]) push(node, DataType.Null, null, null);
  }

  // ---- kiosks
  const kiosks = new Map<string, KioskNodes>();
  const kioskAdded = (kiosk: KioskInfo) => {
    if (kiosk.kind !== 'kiosk' || kiosks.has(kiosk.id)) return;
    const path = `kiosk/${kiosk.id}`;
    const object = ns.addObject({ browseName: kiosk.id, nodeId: id(path), organizedBy: kiosksFolder });
    const nodes: KioskNodes = {
      object,
      state: variable(object, path, 'state', DataType.String),
      lastEvent: variable(object, path, 'lastEvent', DataType.String),
      lastEventAt: variable(object, path, 'lastEventAt', DataType.DateTime),
      connected: variable(object, path, 'connected', DataType.Boolean),
    };
    for (const node of [nodes.state, nodes.lastEvent, nodes.lastEventAt]) push(node, DataType.Null, null, null);
    push(nodes.connected, DataType.Boolean, model.isConnected(kiosk.id), null);
    kiosks.set(kiosk.id, nodes);
  };
  for (const kiosk of model.kiosks) kioskAdded(kiosk);

  // ---- availability for online orders: one variable per sku of the planogram (bounded by it), made once
  const skuVariables = new Map<string, { node: UAVariable; facings: number }>();
  const availableNow = model.availability?.();
  if (availableNow !== undefined) {
    const availabilityFolder = folder('Availability', 'store/availability');
    for (const plan of model.planogram.planogram.facings) {
      const known = skuVariables.get(plan.sku);
      if (known) {
        known.facings++;
        continue;
      }
      const node = ns.addVariable({
        organizedBy: availabilityFolder,
        browseName: plan.sku,
        nodeId: id(`availability/${plan.sku}`),
        description: `units of ${model.planogram.product(plan.sku)?.name ?? plan.sku} HQ's online shop may promise`,
        dataType: DataType.Double,
        minimumSamplingInterval: 0,
      });
      push(node, DataType.Null, null, null);
      skuVariables.set(plan.sku, { node, facings: 1 });
    }
  }
  const availabilityChanged = (availability: SkuAvailabilityInfo) => {
    const entry = skuVariables.get(availability.sku);
    if (!entry) return;
    // no facing of the sku has reported yet: its units are not known, not 0
    const known = availability.unknownFacings < entry.facings;
    push(entry.node, DataType.Double, known ? availability.availableUnits : null, availability.at);
  };
  for (const availability of availableNow ?? []) availabilityChanged(availability);

  // ---- alerts
  const alertNodes = new Map<string, AlertNodes>();
  const conditions = buildAlertConditions(
    addressSpace,
    ns,
    store,
    (alert) => {
      const facingKey = alert.shelfId !== undefined && alert.facing !== undefined ? `${alert.shelfId}/${alert.facing}` : undefined;
      const facing = facingKey === undefined ? undefined : facingObjects.get(facingKey);
      if (facing) return { node: facing, lasting: true };
      const kiosk = alert.deviceId ? kiosks.get(alert.deviceId)?.object : undefined;
      return kiosk ? { node: kiosk, lasting: false } : { node: store, lasting: true };
    },
    {
      acknowledge: (alertId, by) => model.acknowledgeAlert(alertId, by),
      confirm: (alertId, by, comment) => model.resolveAlert(alertId, by, comment),
      ...(options.onMethodError ? { onMethodError: options.onMethodError } : {}),
    },
  );
  let droppedAlerts = 0;
  const ALERT_FIELDS: Array<[keyof AlertInfo, DataType]> = [
    ['kind', DataType.String],
    ['state', DataType.String],
    ['severity', DataType.String],
    ['title', DataType.String],
    ['shelfId', DataType.String],
    ['facing', DataType.Double],
    ['sku', DataType.String],
    ['deviceId', DataType.String],
    ['units', DataType.Double],
    ['openedAt', DataType.DateTime],
    ['acknowledgedBy', DataType.String],
  ];
  const alertValue = (alert: AlertInfo, field: keyof AlertInfo, dataType: DataType) => {
    const value = alert[field];
    return value === undefined ? null : dataType === DataType.DateTime ? new Date(value) : value;
  };

  const methodCall =
    (alertId: string, name: string, action: (by: string, inputs: Variant[]) => AlertActionOutcome | Promise<AlertActionOutcome>) =>
    async (inputs: Variant[], context: ISessionContext): Promise<CallMethodResultOptions> => {
      const by = callerName(context);
      if (!by) return { statusCode: StatusCodes.BadUserAccessDenied };
      try {
        const outcome = await action(by, inputs);
        if (outcome.ok) return { statusCode: StatusCodes.Good };
        return { statusCode: outcome.reason === 'invalid-state' ? StatusCodes.BadInvalidState : StatusCodes.BadNotFound };
      } catch (error) {
        options.onMethodError?.(name, alertId, error);
        return { statusCode: StatusCodes.BadInternalError };
      }
    };

  const addAlert = (alert: AlertInfo): AlertNodes => {
    const path = `alert/${alert.id}`;
    const object = ns.addObject({ browseName: alert.id, nodeId: id(path), organizedBy: alertsFolder });
    const values = new Map<string, UAVariable>();
    for (const [field, dataType] of ALERT_FIELDS) values.set(field, variable(object, path, field, dataType));
    const acknowledge = ns.addMethod(object, {
      browseName: 'Acknowledge',
      nodeId: id(`${path}/Acknowledge`),
      inputArguments: [],
      outputArguments: [],
    });
    acknowledge.bindMethod(methodCall(alert.id, 'Acknowledge', (by) => model.acknowledgeAlert(alert.id, by)));
    const resolve = ns.addMethod(object, {
      browseName: 'Resolve',
      nodeId: id(`${path}/Resolve`),
      inputArguments: [{ name: 'note', dataType: DataType.String, description: 'what was done (may be empty)' }],
      outputArguments: [],
    });
    resolve.bindMethod(
      methodCall(alert.id, 'Resolve', (by, inputs) => {
        const note: unknown = inputs[0]?.value;
        return model.resolveAlert(alert.id, by, typeof note === 'string' && note !== '' ? note : undefined);
      }),
    );
    const nodes = { object, values };
    alertNodes.set(alert.id, nodes);
    return nodes;
  };

  const alertChanged = (alert: AlertInfo) => {
    let nodes = alertNodes.get(alert.id);
    if (alert.state === 'resolved') {
      if (nodes) {
        // the condition's last event (Inactive, Retain=false) goes out before its node goes
        conditions.alertChanged(alert, nodes.object);
        addressSpace.deleteNode(nodes.object);
        alertNodes.delete(alert.id);
      }
      return;
    }
    if (!nodes) {
      if (alertNodes.size >= maxAlertNodes) {
        droppedAlerts++;
        return;
      }
      nodes = addAlert(alert);
    }
    for (const [field, dataType] of ALERT_FIELDS)
      push(nodes.values.get(field) as UAVariable, dataType, alertValue(alert, field, dataType), alert.updatedAt);
    conditions.alertChanged(alert, nodes.object);
  };
  for (const alert of model.activeAlerts) alertChanged(alert);

  return {
    facingChanged,
    sensorFault(shelfId, facing, isFaulty) {
      if (isFaulty) faulty.add(`${shelfId}/${facing}`);
      else faulty.delete(`${shelfId}/${facing}`);
    },
    kioskAdded,
    kioskRemoved(kioskId) {
      const nodes = kiosks.get(kioskId);
      if (!nodes) return;
      addressSpace.deleteNode(nodes.object);
      kiosks.delete(kioskId);
    },
    kioskStatus(kioskId, state, at) {
      const nodes = kiosks.get(kioskId);
      if (nodes) push(nodes.state, DataType.String, state, at);
    },
    kioskEvent(kioskId, type, at) {
      const nodes = kiosks.get(kioskId);
      if (!nodes) return;
      push(nodes.lastEvent, DataType.String, type, at);
      push(nodes.lastEventAt, DataType.DateTime, new Date(at), at);
    },
    kioskConnection(kioskId, connected, at) {
      const nodes = kiosks.get(kioskId);
      if (nodes) push(nodes.connected, DataType.Boolean, connected, at);
    },
    alertChanged,
    availabilityChanged,
    get droppedAlerts() {
      return droppedAlerts;
    },
    addScales,
    get scalesPending() {
      return pendingScales.length - scalesAdded;
    },
  };
}
