/**
 * buildStoreAddressSpace on a bare node-opcua address space (standard nodeset only, no server, no Scales): the NodeIds
 * are the documented ones, unknown values are BadDataUnavailable, pushed values land, alerts come and go with their
 * methods acting as the calling user, and each alert is an A&C condition whose events reach the Server object.
 */
import { AddressSpace, SessionContext, type IEventData, type UAMethod, type UAObject, type UAVariable } from 'node-opcua-address-space';
import { generateAddressSpace } from 'node-opcua-address-space/nodeJS.js';
import { LocalizedText } from 'node-opcua-data-model';
import { nodesets } from 'node-opcua-nodesets';
import { constructEventFilter, extractEventFields } from 'node-opcua-service-filter';
import { StatusCodes } from 'node-opcua-status-code';
import { UserNameIdentityToken } from 'node-opcua-types';
import { DataType } from 'node-opcua-variant';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildStoreAddressSpace,
  type AlertActionOutcome,
  type AlertInfo,
  type StoreAddressSpace,
  type WeightNow,
} from '../../../edge/opcua/store-address-space.js';

const planogram = {
  planogram: {
    facings: [
      { shelfId: 'shelf-a', facing: 1, sku: 'milk', capacityUnits: 10, tareG: 100 },
      { shelfId: 'shelf-a', facing: 2, sku: 'beans', capacityUnits: 8, tareG: 0 },
    ],
  },
  product: (sku: string) => (sku === 'milk' ? { name: 'Oat milk 1 l', unitWeightG: 1040 } : { name: 'Espresso beans', unitWeightG: 520 }),
};

const alert = (over: Partial<AlertInfo> = {}): AlertInfo => ({
  id: 'al-1',
  kind: 'low-stock',
  state: 'open',
  severity: 'warning',
  title: 'Low stock: Oat milk',
  shelfId: 'shelf-a',
  facing: 1,
  units: 2,
  openedAt: 1_700_000_000_000,
  updatedAt: 1_700_000_000_000,
  ...over,
});

describe('buildStoreAddressSpace', () => {
  let addressSpace: AddressSpace;
  let space: StoreAddressSpace;
  let weight: WeightNow | undefined;
  const calls: string[] = [];
  let outcome: AlertActionOutcome = { ok: true };

  const node = (path: string) => addressSpace.findNode(`ns=1;s=${path}`) as UAVariable | null;
  const read = async (path: string) => {
    const found = node(path);
    if (!found) throw new Error(`no node ${path}`);
    return found.readValueAsync(SessionContext.defaultContext);
  };
  const asUser = (userName?: string) =>
    new SessionContext({ session: { userIdentityToken: userName ? new UserNameIdentityToken({ userName }) : undefined } as never });
  const call = (alertId: string, method: string, context: SessionContext, inputs: unknown[] = []) => {
    const object = addressSpace.findNode(`ns=1;s=alert/${alertId}`) as UAObject;
    const m = addressSpace.findNode(`ns=1;s=alert/${alertId}/${method}`) as UAMethod;
    return m.execute(
      object,
      inputs.map((value) => ({ dataType: DataType.String, value })),
      context,
    );
  };

  beforeAll(async () => {
    addressSpace = AddressSpace.create();
    await generateAddressSpace(addressSpace, [nodesets.standard]);
    addressSpace.registerNamespace('urn:test-store');
    space = buildStoreAddressSpace(
      addressSpace,
      {
        storeId: 'store-1',
        planogram,
        facing: (shelfId, facing) =>
          shelfId === 'shelf-a' && facing === 2 ? { shelfId, facing, units: 4, level: 'ok', updatedAt: 1_700_000_000_000 } : undefined,
        liveWeight: () => weight,
        kiosks: [{ id: 'kiosk-1', kind: 'kiosk' }],
        isConnected: (id) => id === 'kiosk-1',
        activeAlerts: [alert()],
        acknowledgeAlert: (id, by) => (calls.push(`ack ${id} by ${by}`), outcome),
        resolveAlert: (id, by, note) => (calls.push(`resolve ${id} by ${by}: ${note ?? '-'}`), outcome),
      },
      { maxAlertNodes: 2 },
    );
  }, 30_000);

  afterAll(() => addressSpace?.dispose());

  it('gives every facing its documented NodeIds; unknown values are BadDataUnavailable, known ones are there', async () => {
    expect((await read('store/storeId')).value.value).toBe('store-1');
    expect((await read('shelf/shelf-a/facing/1/productName')).value.value).toBe('Oat milk 1 l');
    expect((await read('shelf/shelf-a/facing/1/sku')).value.value).toBe('milk');
    for (const name of ['units', 'fillPercent', 'level', 'weightG']) {
      expect((await read(`shelf/shelf-a/facing/1/${name}`)).statusCode, name).toEqual(StatusCodes.BadDataUnavailable);
    }
    expect((await read('shelf/shelf-a/facing/2/units')).value.value).toBe(4);
    expect((await read('shelf/shelf-a/facing/2/fillPercent')).value.value).toBe(50);
    // no Scales nodeset loaded: no CurrentWeight, the plain weightG stays
    expect(node('shelf/shelf-a/facing/1/CurrentWeight')).toBeNull();
  });

  it('shows pushed facing changes and reads the live weight on demand', async () => {
    space.facingChanged({ shelfId: 'shelf-a', facing: 1, units: 3, level: 'low', updatedAt: 1_700_000_001_000 });
    expect((await read('shelf/shelf-a/facing/1/units')).value.value).toBe(3);
    expect((await read('shelf/shelf-a/facing/1/fillPercent')).value.value).toBe(30);
    const level = await read('shelf/shelf-a/facing/1/level');
    expect(level.value.value).toBe('low');
    expect(level.sourceTimestamp?.getTime()).toBe(1_700_000_001_000);
    weight = { weightG: 3220, tareG: 100, stable: true, at: 1_700_000_002_000 };
    expect((await read('shelf/shelf-a/facing/1/weightG')).value.value).toBe(3220);
  });

  it('keeps kiosks current: state, last event, connection; a removed kiosk leaves', async () => {
    expect((await read('kiosk/kiosk-1/state')).statusCode).toEqual(StatusCodes.BadDataUnavailable);
    expect((await read('kiosk/kiosk-1/connected')).value.value).toBe(true);
    space.kioskStatus('kiosk-1', 'assist', 1_700_000_003_000);
    space.kioskEvent('kiosk-1', 'assist-requested', 1_700_000_003_000);
    space.kioskConnection('kiosk-1', false, 1_700_000_004_000);
    expect((await read('kiosk/kiosk-1/state')).value.value).toBe('assist');
    expect((await read('kiosk/kiosk-1/lastEvent')).value.value).toBe('assist-requested');
    expect((await read('kiosk/kiosk-1/connected')).value.value).toBe(false);
    space.kioskAdded({ id: 'kiosk-2', kind: 'kiosk' });
    space.kioskAdded({ id: 'label-1', kind: 'esl' });
    expect(node('kiosk/kiosk-2/state')).not.toBeNull();
    expect(addressSpace.findNode('ns=1;s=kiosk/label-1')).toBeNull();
    space.kioskRemoved('kiosk-2');
    expect(addressSpace.findNode('ns=1;s=kiosk/kiosk-2')).toBeNull();
  });

  it('alert methods act as the calling user; anonymous callers and refused transitions get their status codes', async () => {
    expect((await read('alert/al-1/state')).value.value).toBe('open');
    expect((await call('al-1', 'Acknowledge', asUser())).statusCode).toEqual(StatusCodes.BadUserAccessDenied);
    expect(calls).toEqual([]);
    expect((await call('al-1', 'Acknowledge', asUser('hq-tool'))).statusCode).toEqual(StatusCodes.Good);
    expect((await call('al-1', 'Resolve', asUser('hq-tool'), ['done'])).statusCode).toEqual(StatusCodes.Good);
    outcome = { ok: false, reason: 'invalid-state' };
    expect((await call('al-1', 'Acknowledge', asUser('hq-tool'))).statusCode).toEqual(StatusCodes.BadInvalidState);
    outcome = { ok: false, reason: 'not-found' };
    expect((await call('al-1', 'Resolve', asUser('hq-tool'), [''])).statusCode).toEqual(StatusCodes.BadNotFound);
    expect(calls).toEqual(['ack al-1 by hq-tool', 'resolve al-1 by hq-tool: done', 'ack al-1 by hq-tool', 'resolve al-1 by hq-tool: -']);
  });

  it('alerts come and go with their state, bounded by maxAlertNodes', async () => {
    space.alertChanged(alert({ state: 'acknowledged', acknowledgedBy: 'hq-tool', updatedAt: 1_700_000_005_000 }));
    expect((await read('alert/al-1/state')).value.value).toBe('acknowledged');
    expect((await read('alert/al-1/acknowledgedBy')).value.value).toBe('hq-tool');
    expect((await read('alert/al-1/shelfId')).value.value).toBe('shelf-a');
    expect((await read('alert/al-1/deviceId')).statusCode).toEqual(StatusCodes.BadDataUnavailable);
    space.alertChanged(alert({ id: 'al-2' }));
    space.alertChanged(alert({ id: 'al-3' })); // a third active alert: over the bound of 2
    expect(addressSpace.findNode('ns=1;s=alert/al-3')).toBeNull();
    expect(space.droppedAlerts).toBe(1);
    space.alertChanged(alert({ state: 'resolved' }));
    expect(addressSpace.findNode('ns=1;s=alert/al-1')).toBeNull();
    expect(addressSpace.findNode('ns=1;s=alert/al-1/Acknowledge')).toBeNull();
  });

  describe('alerts as Alarms & Conditions', () => {
    const FIELDS = ['EventId', 'EventType', 'SourceName', 'Message', 'Severity', 'Retain', 'Time', 'Comment', 'ConditionName'];
    FIELDS.push('AckedState.Id', 'ActiveState.Id', 'ConfirmedState.Id');
    const filter = constructEventFilter(FIELDS);
    type Fields = Record<string, unknown>;
    const at = 1_700_000_010_000;
    const events: Fields[] = [];
    const onEvent = (eventData: IEventData) => {
      const values = extractEventFields(SessionContext.defaultContext, filter.selectClauses ?? [], eventData);
      events.push(Object.fromEntries(FIELDS.map((name, i) => [name, values[i]?.value])));
    };
    const server = () => addressSpace.rootFolder.objects.server;
    // the standard methods, called as generic clients call them: the type's MethodId on the condition object
    type Standard = 'Acknowledge' | 'Confirm';
    const callStandard = (alertId: string, method: Standard, eventId: unknown, context: SessionContext, comment = 'on it') => {
      const type = addressSpace.findEventType('AcknowledgeableConditionType') as unknown as Record<string, UAMethod>;
      const condition = addressSpace.findNode(`ns=1;s=alert/${alertId}/condition`) as UAObject;
      return (method === 'Acknowledge' ? type.acknowledge : type.confirm)!.execute(
        condition,
        [
          { dataType: DataType.ByteString, value: eventId },
          { dataType: DataType.LocalizedText, value: new LocalizedText({ text: comment }) },
        ],
        context,
      );
    };

    beforeAll(() => server().on('event', onEvent));
    afterAll(() => server().removeListener('event', onEvent));

    it('raises a new alert as an active, unacknowledged condition on the Server object, severity mapped', () => {
      outcome = { ok: true };
      events.length = 0;
      space.alertChanged(alert({ id: 'al-9', severity: 'critical', title: 'Out of stock: Oat milk', openedAt: at, updatedAt: at }));
      const raised = events.at(-1) as Fields;
      expect(raised).toMatchObject({ SourceName: 'shelf-a/facing-1', Severity: 900, Retain: true, ConditionName: 'low-stock' });
      expect(raised).toMatchObject({ 'AckedState.Id': false, 'ActiveState.Id': true, 'ConfirmedState.Id': false });
      expect((raised.Message as LocalizedText).text).toBe('Out of stock: Oat milk');
      expect((raised.Time as Date).getTime()).toBe(1_700_000_010_000);
      expect(addressSpace.findNode(raised.EventType as never)?.browseName.name).toBe('StoreAlertAlarmType');
    });

    it('Acknowledge acts through the alert service as the caller; bad EventIds, anonymous callers, refusals get Part 9 codes', async () => {
      calls.length = 0;
      const eventId = (events.at(-1) as Fields).EventId;
      const unknown = await callStandard('al-9', 'Acknowledge', Buffer.from('nope'), asUser('scada'));
      expect(unknown.statusCode).toEqual(StatusCodes.BadEventIdUnknown);
      expect((await callStandard('al-9', 'Acknowledge', eventId, asUser())).statusCode).toEqual(StatusCodes.BadUserAccessDenied);
      expect(calls).toEqual([]);
      expect((await callStandard('al-9', 'Acknowledge', eventId, asUser('scada'))).statusCode).toEqual(StatusCodes.Good);
      expect(calls).toEqual(['ack al-9 by scada']);
      // the condition follows the alert service's change, not the call
      expect((events.at(-1) as Fields)['AckedState.Id']).toBe(false);
      space.alertChanged(alert({ id: 'al-9', severity: 'critical', state: 'acknowledged', acknowledgedBy: 'scada', updatedAt: at + 1e3 }));
      const acked = events.at(-1) as Fields;
      expect(acked).toMatchObject({ 'AckedState.Id': true, 'ActiveState.Id': true, Retain: true });
      expect((acked.Comment as LocalizedText).text).toBe('on it');
      expect((acked.Time as Date).getTime()).toBe(at + 1_000);
      outcome = { ok: false, reason: 'invalid-state' };
      const again = await callStandard('al-9', 'Acknowledge', acked.EventId, asUser('scada'));
      expect(again.statusCode).toEqual(StatusCodes.BadConditionBranchAlreadyAcked);
      outcome = { ok: true };
    });

    it('Confirm resolves through the alert service; resolved, the condition goes inactive with Retain=false and leaves', async () => {
      calls.length = 0;
      const eventId = (events.at(-1) as Fields).EventId;
      expect((await callStandard('al-9', 'Confirm', eventId, asUser('scada'), 'restocked'))?.statusCode).toEqual(StatusCodes.Good);
      expect(calls).toEqual(['resolve al-9 by scada: restocked']);
      space.alertChanged(alert({ id: 'al-9', severity: 'critical', state: 'resolved', updatedAt: 1_700_000_012_000 }));
      expect(events.at(-1)).toMatchObject({ 'ActiveState.Id': false, 'ConfirmedState.Id': true, Retain: false });
      expect(addressSpace.findNode('ns=1;s=alert/al-9/condition')).toBeNull();
    });

    // al-9 is gone: room for one more under maxAlertNodes (2)
    it('follows changes made elsewhere: acknowledged over HTTP, snoozed, woken again (Unacknowledged), details changed', () => {
      const base = { id: 'al-10', kind: 'kiosk-assist', shelfId: undefined, facing: undefined, deviceId: 'kiosk-1', openedAt: at };
      space.alertChanged(alert({ ...base, title: 'Assist at kiosk-1', updatedAt: at }));
      expect(events.at(-1)).toMatchObject({ SourceName: 'kiosk-1', Severity: 500, 'AckedState.Id': false, ConditionName: 'kiosk-assist' });
      space.alertChanged(alert({ ...base, state: 'acknowledged', acknowledgedBy: 'token:staff', updatedAt: at + 1e3 }));
      expect(events.at(-1)).toMatchObject({ 'AckedState.Id': true, Retain: true });
      expect((events.at(-1)?.Comment as LocalizedText).text ?? '').toBe('');
      space.alertChanged(alert({ ...base, state: 'snoozed', acknowledgedBy: 'token:staff', updatedAt: at + 2e3 }));
      expect(events.at(-1)).toMatchObject({ 'AckedState.Id': true, 'ActiveState.Id': true });
      space.alertChanged(alert({ ...base, state: 'open', title: 'Assist at kiosk-1 (again)', updatedAt: at + 3e3 }));
      const woken = events.at(-1) as Fields;
      expect(woken).toMatchObject({ 'AckedState.Id': false, 'ActiveState.Id': true, Retain: true });
      expect((woken.Message as LocalizedText).text).toBe('Assist at kiosk-1 (again)');
      space.alertChanged(alert({ ...base, state: 'resolved', updatedAt: at + 4e3 }));
      expect(events.at(-1)).toMatchObject({ 'ActiveState.Id': false, Retain: false });
    });

    it('an alert about no facing and no kiosk shown (a refrigerated case) hangs on the Store and reaches the Server object', () => {
      events.length = 0;
      const at = 1_700_000_020_000;
      const caseAlert: AlertInfo = {
        id: 'al-case',
        kind: 'cold-chain',
        state: 'open',
        severity: 'critical',
        title: 'Case case-dairy: 7.2 °C',
        deviceId: 'case-dairy',
        openedAt: at,
        updatedAt: at,
      };
      space.alertChanged(caseAlert);
      // before, instantiating the condition threw ("conditionSourceNode must be an event source"): a gateway restarted
      // with such an alert open did not start
      expect(events.at(-1)).toMatchObject({ SourceName: 'case-dairy', ConditionName: 'cold-chain', 'ActiveState.Id': true });
      expect((addressSpace.findNode('ns=1;s=alert/al-case/condition') as UAObject | null)?.browseName.name).toBe('Condition');
      // resolved, it leaves (and frees its place under maxAlertNodes)
      space.alertChanged({ ...caseAlert, state: 'resolved', updatedAt: at + 1_000 });
      expect(events.at(-1)).toMatchObject({ SourceName: 'case-dairy', 'ActiveState.Id': false, Retain: false });
    });

    it('a kiosk removed while its alert is active: the events of the alert still reach the Server object', () => {
      space.kioskAdded({ id: 'kiosk-3', kind: 'kiosk' });
      const base = { id: 'al-11', kind: 'kiosk-assist', shelfId: undefined, facing: undefined, deviceId: 'kiosk-3', openedAt: at };
      space.alertChanged(alert({ ...base, updatedAt: at }));
      expect(events.at(-1)).toMatchObject({ SourceName: 'kiosk-3', 'ActiveState.Id': true });
      space.kioskRemoved('kiosk-3');
      const before = events.length;
      space.alertChanged(alert({ ...base, state: 'resolved', updatedAt: at + 5e3 }));
      expect(events).toHaveLength(before + 1);
      expect(events.at(-1)).toMatchObject({ SourceName: 'kiosk-3', 'ActiveState.Id': false, Retain: false });
    });
  });
});

describe('buildStoreAddressSpace with OPC 40200 Scales', () => {
  let addressSpace: AddressSpace;
  let weight: WeightNow | undefined;

  beforeAll(async () => {
    addressSpace = AddressSpace.create();
    const { standard, di, ia, machinery, packML, scales } = nodesets;
    await generateAddressSpace(addressSpace, [standard, di, ia, machinery, packML, scales]);
    addressSpace.registerNamespace('urn:test-store');
    const space = buildStoreAddressSpace(addressSpace, {
      storeId: 'store-1',
      planogram,
      facing: () => undefined,
      liveWeight: (shelfId, facing) => (shelfId === 'shelf-a' && facing === 1 ? weight : undefined),
      kiosks: [],
      isConnected: () => false,
      activeAlerts: [],
      acknowledgeAlert: () => ({ ok: true }),
      resolveAlert: () => ({ ok: true }),
    });
    // the scales are not part of the build: added in batches (one per turn here), stoppable between batches
    const deviceSet = `ns=${addressSpace.getNamespaceIndex('http://opcfoundation.org/UA/DI/')};i=5001`;
    const deviceSetSize = () => (addressSpace.findNode(deviceSet) as UAObject).getComponents().length;
    const empty = deviceSetSize();
    expect(space.scalesPending).toBe(2);
    const abort = new AbortController();
    const first = space.addScales({ batchSize: 1, signal: abort.signal });
    abort.abort(); // after the first batch, before the second
    expect(await first).toBe(1);
    expect(space.scalesPending).toBe(1);
    expect(await space.addScales({ batchSize: 1 })).toBe(1);
    expect(space.scalesPending).toBe(0);
    expect(deviceSetSize()).toBe(empty + 2);
  }, 60_000);

  afterAll(() => addressSpace?.dispose());

  it('puts each facing in DeviceSet as a ScaleDeviceType with the mandatory parts; a planogram tare is PresetTare', async () => {
    const scalesIndex = addressSpace.getNamespaceIndex('http://opcfoundation.org/UA/Scales/V2/');
    const diIndex = addressSpace.getNamespaceIndex('http://opcfoundation.org/UA/DI/');
    const scaleDeviceType = addressSpace.findObjectType('ScaleDeviceType', scalesIndex);
    const deviceSet = addressSpace.findNode(`ns=${diIndex};i=5001`) as UAObject;
    const isScale = (node: unknown) => (node as UAObject).typeDefinitionObj?.isSubtypeOf(scaleDeviceType as never);
    const scales = deviceSet.getComponents().filter(isScale) as UAObject[];
    expect(scales.map((s) => s.nodeId.toString()).sort()).toEqual(['ns=1;s=scale/shelf-a/1', 'ns=1;s=scale/shelf-a/2']);

    const scale = scales.find((s) => s.nodeId.toString() === 'ns=1;s=scale/shelf-a/1') as UAObject;
    const current = scale.getComponentByName('CurrentWeight', scalesIndex) as UAVariable;
    const prop = (name: string, index = scalesIndex) => current.getPropertyByName(name, index) as UAVariable;
    for (const name of ['Overload', 'Underload', 'TareMode']) expect(prop(name), name).toBeTruthy();
    expect(prop('EngineeringUnits', 0)).toBeTruthy();
    expect(prop('EURange', 0).readValue().value.value).toMatchObject({ low: 0, high: 100 + 10 * 1040 * 1.5 });
    expect(prop('TareMode').readValue().value.value).toBe(2); // PresetTare: the planogram's 100 g
    const other = scales.find((s) => s.nodeId.toString() === 'ns=1;s=scale/shelf-a/2') as UAObject;
    const otherWeight = other.getComponentByName('CurrentWeight', scalesIndex) as UAVariable;
    expect(otherWeight.getPropertyByName('TareMode', scalesIndex)?.readValue().value.value).toBe(0); // None: no tare
    const identification = scale.getChildByName('Identification', diIndex) as UAObject;
    const ident = (name: string): unknown => (identification.getPropertyByName(name, diIndex) as UAVariable).readValue().value.value;
    expect(ident('SerialNumber')).toBe('shelf-a/1');
    expect(ident('ProductInstanceUri')).toBe('urn:smartstore-edge:store-1:scale:shelf-a/1');
    expect(ident('Manufacturer')).toMatchObject({ text: 'smartstore-edge' });
    // the facing organizes its scale
    const facing = addressSpace.findNode('ns=1;s=shelf/shelf-a/facing/1') as UAObject;
    const organized = facing.findReferencesAsObject('Organizes', true).map((n) => n.nodeId.toString());
    expect(organized).toContain('ns=1;s=scale/shelf-a/1');

    // the structured CurrentWeight's status is checked through a client (integration test): read here, node-opcua
    // answers a bound ExtensionObject's value without the getter's status
    expect((await prop('Gross').readValueAsync(SessionContext.defaultContext)).statusCode).toEqual(StatusCodes.BadDataUnavailable);
    weight = { weightG: 3220, tareG: 100, stable: true, at: 1_700_000_002_000 };
    const read = async (node: UAVariable): Promise<unknown> => (await node.readValueAsync(SessionContext.defaultContext)).value.value;
    expect(await read(current)).toMatchObject({ gross: 3220, net: 3120, tare: 100 });
    expect(await read(prop('Net'))).toBe(3120);
    expect(await read(prop('Overload'))).toBe(false);
    weight = { weightG: 20_000, tareG: 100, stable: true, at: 1_700_000_003_000 };
    expect(await read(prop('Overload'))).toBe(true); // above EURange.high
    expect(prop('Gross').nodeId.toString()).toBe('ns=1;s=scale/shelf-a/1-CurrentWeight-Gross');
  });
});
