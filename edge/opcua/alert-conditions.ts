/**
 * Gateway alerts as OPC 10000-9 (Alarms & Conditions) conditions, so a SCADA/HMI client's alarm list shows them.
 *
 * Each active alert is one instance of `StoreAlertAlarmType` (ns=1, a subtype of AlarmConditionType with the properties
 * AlertId and AlertKind, so a client can select them in its EventFilter), NodeId `ns=1;s=alert/<alertId>/condition`.
 * Its ConditionSource is the facing (low-stock, sensor-fault), the kiosk (kiosk alerts) or the Store (the rest); the
 * Store is a notifier of the Server object and each source an event source of the Store (Part 9 §5.10/§6.3:
 * HasNotifier/HasEventSource), so every event reaches a client monitoring the Server object's EventNotifier and
 * ConditionRefresh (node-opcua's, walking that hierarchy) re-sends the retained ones.
 *
 * The alert service stays the single source. The standard methods act through it and answer once it is durable:
 *   Acknowledge(EventId, Comment) → alerts.acknowledge(id, <OPC UA user>)          (Part 9 §5.7.3)
 *   Confirm(EventId, Comment)     → alerts.resolve(id, <OPC UA user>, comment)     (Part 9 §5.7.4: the operator
 *                                   confirms the situation was dealt with — the staff page's "resolve")
 * and the condition follows the alert's `alert.changed`, whoever made the change (HTTP, OPC UA, the stock pipeline):
 *   open → Active, Unacknowledged, Unconfirmed, Retain; acknowledged/snoozed → Acknowledged (still Retain);
 *   resolved → Inactive, Confirmed, Retain=false, and the node is removed after that last event.
 * Severity (Part 9 §5.5.2 ranges): warning → 500 (Medium, 401–600), critical → 900 (High, 801–1000).
 *
 * Clients call a condition's methods with the type's MethodId (AcknowledgeableConditionType.Acknowledge, i=9111) as
 * often as with the instance's: both are routed here; other conditions keep node-opcua's own handling.
 */
import type {
  AddressSpace,
  ConditionSnapshot,
  ISessionContext,
  Namespace,
  UAAlarmConditionEx,
  UAEventType,
  UAMethod,
  UAObject,
} from 'node-opcua-address-space';
import type { LocalizedText } from 'node-opcua-data-model';
import { NodeId } from 'node-opcua-nodeid';
import { StatusCodes } from 'node-opcua-status-code';
import type { CallMethodResultOptions } from 'node-opcua-types';
import { DataType, type Variant } from 'node-opcua-variant';
import type { AlertActionOutcome, AlertInfo } from './store-address-space.js';

export const ALERT_SEVERITY: Record<string, number> = { warning: 500, critical: 900 };
const DEFAULT_SEVERITY = 500;

export type AlertConditionActions = {
  acknowledge: (id: string, by: string) => AlertActionOutcome | Promise<AlertActionOutcome>;
  confirm: (id: string, by: string, comment: string | undefined) => AlertActionOutcome | Promise<AlertActionOutcome>;
  onMethodError?: (method: string, alertId: string, error: unknown) => void;
};

export type AlertConditions = {
  /** creates, updates or (resolved) retires the alert's condition; `parent` holds the node (the alert object) */
  alertChanged(alert: AlertInfo, parent: UAObject): void;
  /** the alert's node is about to go without a last event (never resolved here): forget it */
  forget(alertId: string): void;
};

/**
 * The node an alert is about. `lasting`: it stays as long as the address space (the Store, a facing); a kiosk can be
 * removed while its alert is active, so its conditions hang on the Store (HasCondition) and keep reaching the Server
 * object, with the kiosk still their SourceNode.
 */
export type AlertSource = { node: UAObject; lasting: boolean };

type Entry = { alert: AlertInfo; condition: UAAlarmConditionEx; comment?: string };
type MethodFn = (inputs: Variant[], context: ISessionContext) => Promise<CallMethodResultOptions>;
type MethodCallback = (err: Error | null, result?: CallMethodResultOptions) => void;
type LegacyFn = (inputs: Variant[], context: ISessionContext, callback: MethodCallback) => void;

/** The user name of the session calling a method; undefined for an anonymous session. */
export function callerName(context: ISessionContext): string | undefined {
  const token = context.session?.userIdentityToken as { userName?: unknown } | undefined;
  return typeof token?.userName === 'string' && token.userName !== '' ? token.userName : undefined;
}

/** node-opcua's handler of a type-level method (bound by installAlarmsAndConditionsService), to keep for others. */
function boundHandler(method: UAMethod): LegacyFn | undefined {
  return (method as unknown as { _asyncExecutionFunction?: LegacyFn })._asyncExecutionFunction;
}

export function buildAlertConditions(
  addressSpace: AddressSpace,
  ns: Namespace,
  store: UAObject,
  sourceOf: (alert: AlertInfo) => AlertSource,
  actions: AlertConditionActions,
): AlertConditions {
  addressSpace.installAlarmsAndConditionsService();
  const server = addressSpace.rootFolder.objects.server;
  server.addReference({ referenceType: 'HasNotifier', nodeId: store.nodeId });
  // HasNotifier is a subtype of HasEventSource (Part 3 §11.14), but node-opcua accepts a ConditionSource only with an
  // exact HasEventSource pointing at it: the Store is the source of the alerts about no facing and no kiosk shown here
  // (a refrigerated case, a gateway-wide condition), and without this a gateway restarted with one open failed to start
  server.addReference({ referenceType: 'HasEventSource', nodeId: store.nodeId });
  const eventSources = new Set<string>([store.nodeId.toString()]);

  const alarmType = ns.addEventType({ browseName: 'StoreAlertAlarmType', subtypeOf: 'AlarmConditionType', isAbstract: false });
  for (const name of ['AlertId', 'AlertKind']) {
    ns.addVariable({ propertyOf: alarmType, browseName: name, dataType: DataType.String, modellingRule: 'Mandatory' });
  }

  // one entry per active alert shown (the caller bounds them with maxAlertNodes)
  const byAlert = new Map<string, Entry>();
  const byCondition = new Map<string, Entry>();

  const ensureEventSource = (source: UAObject) => {
    const key = source.nodeId.toString();
    if (eventSources.has(key)) return;
    store.addReference({ referenceType: 'HasEventSource', nodeId: source.nodeId });
    eventSources.add(key);
  };

  /** Part 9's checks before acting: a user, a known condition, an EventId of it (§5.7.3: BadEventIdUnknown). */
  const method =
    (name: 'Acknowledge' | 'Confirm') =>
    async (inputs: Variant[], context: ISessionContext): Promise<CallMethodResultOptions> => {
      const entry = context.object ? byCondition.get(context.object.nodeId.toString()) : undefined;
      if (!entry) return { statusCode: StatusCodes.BadNodeIdUnknown };
      const by = callerName(context);
      if (!by) return { statusCode: StatusCodes.BadUserAccessDenied };
      const eventId = inputs[0]?.value as Buffer | null | undefined;
      if (!eventId || !entry.condition.findBranchForEventId(eventId)) return { statusCode: StatusCodes.BadEventIdUnknown };
      const commentValue = inputs[1]?.value as LocalizedText | null | undefined;
      const comment = commentValue?.text ? commentValue.text : undefined;
      const alertId = entry.alert.id;
      try {
        entry.comment = comment;
        const outcome = name === 'Acknowledge' ? await actions.acknowledge(alertId, by) : await actions.confirm(alertId, by, comment);
        if (outcome.ok) return { statusCode: StatusCodes.Good };
        if (outcome.reason === 'not-found') return { statusCode: StatusCodes.BadNodeIdUnknown };
        const { BadConditionBranchAlreadyAcked: alreadyAcked, BadConditionBranchAlreadyConfirmed: alreadyConfirmed } = StatusCodes;
        const refused = name === 'Acknowledge' ? alreadyAcked : alreadyConfirmed;
        return { statusCode: refused };
      } catch (error) {
        actions.onMethodError?.(name, alertId, error);
        return { statusCode: StatusCodes.BadInternalError };
      }
    };
  const acknowledge = method('Acknowledge');
  const confirm = method('Confirm');

  // the type-level methods: ours for our conditions, node-opcua's for any other
  const ackType = addressSpace.findEventType('AcknowledgeableConditionType') as UAEventType & { acknowledge: UAMethod; confirm?: UAMethod };
  const route = (typeMethod: UAMethod | undefined, ours: MethodFn) => {
    if (!typeMethod) return;
    const theirs = boundHandler(typeMethod);
    typeMethod.bindMethod(async (inputs: Variant[], context: ISessionContext): Promise<CallMethodResultOptions> => {
      if ((context.object && byCondition.has(context.object.nodeId.toString())) || !theirs) return ours(inputs, context);
      return new Promise((resolve, reject) =>
        theirs.call(typeMethod, inputs, context, (err, result) => (err ? reject(err) : resolve(result ?? {}))),
      );
    });
  };
  route(ackType.acknowledge, acknowledge);
  route(ackType.confirm, confirm);

  const setProperty = (condition: UAAlarmConditionEx, name: string, value: string) =>
    condition.getPropertyByName(name, ns.index)?.setValueFromSource({ dataType: DataType.String, value });

  const create = (alert: AlertInfo, parent: UAObject): Entry => {
    const { node: source, lasting } = sourceOf(alert);
    ensureEventSource(source);
    const condition = ns.instantiateAlarmCondition(alarmType, {
      browseName: 'Condition',
      nodeId: `ns=${ns.index};s=alert/${alert.id}/condition`,
      componentOf: parent,
      conditionSource: source,
      conditionOf: lasting ? source : store,
      conditionName: alert.kind,
      // Part 9 §5.9: a faulty load cell or label is maintenance, the rest is the store's process
      conditionClass: addressSpace.findObjectType(
        alert.kind === 'sensor-fault' || alert.kind.startsWith('label-') ? 'MaintenanceConditionClassType' : 'ProcessConditionClassType',
      ),
      optionals: ['ConfirmedState', 'Confirm'],
      inputNode: NodeId.nullNodeId,
    });
    condition.acknowledge.bindMethod(acknowledge);
    condition.confirm?.bindMethod(confirm);
    setProperty(condition, 'AlertId', alert.id);
    setProperty(condition, 'AlertKind', alert.kind);
    // SourceName: node-opcua takes the source's qualified browse name ("1:facing-1"); say which facing it is
    condition.sourceName.setValueFromSource({ dataType: DataType.String, value: sourceLabel(alert, source) });
    const entry: Entry = { alert, condition };
    byAlert.set(alert.id, entry);
    byCondition.set(condition.nodeId.toString(), entry);
    const branch = condition.currentBranch();
    condition.activateAlarm();
    branch.setConfirmedState(false);
    return entry;
  };

  /** Brings the condition's current branch to the alert's state and notifies it (a new EventId each time). */
  const notify = (entry: Entry, alert: AlertInfo, fresh: boolean) => {
    const { condition } = entry;
    const branch: ConditionSnapshot = condition.currentBranch();
    const at = new Date(alert.updatedAt);
    const resolved = alert.state === 'resolved';
    const acked = alert.state !== 'open';
    if (branch.getAckedState() !== acked && !resolved) {
      branch.setAckedState(acked);
      if (acked) {
        branch.setComment(entry.comment ?? '');
        if (alert.acknowledgedBy) branch.setClientUserId(alert.acknowledgedBy);
      }
      entry.comment = undefined;
    }
    if (resolved) {
      branch.setActiveState(false);
      branch.setConfirmedState(true);
      branch.setComment(entry.comment ?? '');
      entry.comment = undefined;
    }
    condition.raiseNewCondition({
      severity: ALERT_SEVERITY[alert.severity] ?? DEFAULT_SEVERITY,
      message: alert.title,
      retain: !resolved,
      time: fresh ? new Date(alert.openedAt) : at,
      receiveTime: at,
    });
    entry.alert = alert;
  };

  const forget = (alertId: string) => {
    const entry = byAlert.get(alertId);
    if (!entry) return;
    byAlert.delete(alertId);
    byCondition.delete(entry.condition.nodeId.toString());
  };

  return {
    alertChanged(alert, parent) {
      let entry = byAlert.get(alert.id);
      if (!entry) {
        if (alert.state === 'resolved') return;
        entry = create(alert, parent);
        notify(entry, alert, true);
        return;
      }
      notify(entry, alert, false);
      if (alert.state === 'resolved') forget(alert.id);
    },
    forget,
  };
}

function sourceLabel(alert: AlertInfo, source: UAObject): string {
  if (alert.shelfId !== undefined && alert.facing !== undefined) return `${alert.shelfId}/facing-${alert.facing}`;
  if (alert.deviceId) return alert.deviceId;
  return source.browseName.name ?? 'Store';
}
