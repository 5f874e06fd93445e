/**
 * The OPC UA server end to end: a real gateway (aedes, SQLite, OPC UA on port 0) and a node-opcua client written
 * here, not through our code; alarms are watched as a generic A&C client does (EventFilter on the Server object,
 * ConditionRefresh, the standard Acknowledge by the type's MethodId). One gateway for the file (its start loads the
 * Scales nodeset, a few seconds); the tests
 * run in order and each leaves the store as the next expects.
 */
import { mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { pino } from 'pino';
import {
  AttributeIds,
  BrowseDirection,
  ClientMonitoredItem,
  DataType,
  MethodIds,
  MessageSecurityMode,
  NodeId,
  ObjectIds,
  ObjectTypeIds,
  constructEventFilter,
  makeBrowsePath,
  OPCUAClient,
  SecurityPolicy,
  StatusCodes,
  TimestampsToReturn,
  UserTokenType,
  type ClientSession,
  type DataValue,
  type UserIdentityInfo,
  type Variant,
} from 'node-opcua-client';
import { OPCUACertificateManager } from 'node-opcua-certificate-manager';
import { SqliteDatabase } from '../../edge/storage/database.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../edge/alerts/alerts.js';
import { OpcuaPortInUseError, OpcuaServer } from '../../edge/opcua/opcua-server.js';
import { OpcuaUserDirectory, hashOpcuaPassword } from '../../edge/opcua/opcua-users.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const USER = { type: UserTokenType.UserName, userName: 'hq-tool', password: 'correct horse battery' } as const;
const UNIT_G = 1040; // oat milk on shelf-a facing 1: capacity 10, low at ≤ 2
const WEIGHT_TOPIC = 'store/test-store/shelf/shelf-a/weight';

describe('OPC UA server: the store as an address space', () => {
  let gw: TestGateway;
  let clientPki: string;
  let endpoint: string;
  let shelf: MqttClient;
  const clients: OPCUAClient[] = [];
  const sessions: ClientSession[] = [];

  const newClient = () => {
    const client = OPCUAClient.create({
      applicationName: 'opcua-server-test',
      securityMode: MessageSecurityMode.SignAndEncrypt,
      securityPolicy: SecurityPolicy.Basic256Sha256,
      endpointMustExist: false,
      connectionStrategy: { maxRetry: 0, initialDelay: 50, maxDelay: 100 },
      clientCertificateManager: new OPCUACertificateManager({ rootFolder: clientPki, automaticallyAcceptUnknownCertificate: true }),
    });
    clients.push(client);
    return client;
  };
  const connect = async (identity: UserIdentityInfo = USER): Promise<ClientSession> => {
    const client = newClient();
    await client.connect(endpoint);
    const session = await client.createSession(identity);
    sessions.push(session);
    return session;
  };
  const read = (session: ClientSession, path: string): Promise<DataValue> =>
    session.read({ nodeId: `ns=1;s=${path}`, attributeId: AttributeIds.Value });
  const publishWeight = (weightG: number) =>
    shelf.publishAsync(WEIGHT_TOPIC, JSON.stringify({ facing: 1, weightG, ts: Date.now() }), { qos: 1 });

  beforeAll(async () => {
    clientPki = await mkdtemp(join(tmpdir(), 'opcua-client-pki-'));
    const passwordHash = await hashOpcuaPassword(USER.password, 1024);
    gw = await startTestGateway({
      overrides: {
        opcua: {
          server: {
            enabled: true,
            host: '127.0.0.1',
            hostname: '127.0.0.1',
            port: 0,
            scalesNodeset: true,
            users: [{ username: USER.userName, passwordHash }],
          },
        },
      },
    });
    endpoint = gw.built.opcuaServer.endpointUrl as string;
    await gw.built.opcuaServer.scalesAdded;
    shelf = await gw.connectDevice('shelf-a', 'shelf');
  }, 60_000);

  afterAll(async () => {
    for (const session of sessions) await session.close().catch(() => undefined);
    for (const client of clients) await client.disconnect().catch(() => undefined);
    await gw?.dispose();
    await rm(clientPki, { recursive: true, force: true });
  });

  it('refuses a client certificate until store IT moves it from rejected/ to trusted/certs/', async () => {
    await expect(newClient().connect(endpoint)).rejects.toThrow();
    const pki = join(gw.dataDir, 'opcua-pki');
    const rejected = await eventually(
      async () => {
        const files = await readdir(join(pki, 'rejected'));
        return files.length > 0 ? files : undefined;
      },
      5_000,
      'the client certificate in rejected/',
    );
    for (const file of rejected) await rename(join(pki, 'rejected', file), join(pki, 'trusted', 'certs', file));
    // the server watches trusted/: no restart needed
    const session = await eventually(() => connect(), 10_000, 'a session once trusted');
    expect(session.name).toBeTruthy();
  }, 30_000);

  it('offers only SignAndEncrypt with current policies and user names; refuses anonymous and wrong passwords', async () => {
    const client = newClient();
    await client.connect(endpoint);
    const endpoints = await client.getEndpoints();
    expect(new Set(endpoints.map((e) => e.securityMode))).toEqual(new Set([MessageSecurityMode.SignAndEncrypt]));
    expect(new Set(endpoints.map((e) => e.securityPolicyUri))).toEqual(
      new Set([SecurityPolicy.Basic256Sha256, SecurityPolicy.Aes256_Sha256_RsaPss]),
    );
    const tokenTypes = new Set(endpoints.flatMap((e) => (e.userIdentityTokens ?? []).map((t) => t.tokenType)));
    expect(tokenTypes.has(UserTokenType.Anonymous)).toBe(false);
    expect(tokenTypes.has(UserTokenType.UserName)).toBe(true);

    const refusal = (identity: UserIdentityInfo) =>
      connect(identity).then(
        () => 'accepted',
        (error: Error) => error.message,
      );
    expect(await refusal({ type: UserTokenType.Anonymous })).toMatch(/ANONYMOUS|BadIdentityToken|BadUserAccessDenied/);
    expect(await refusal({ ...USER, password: 'wrong password' })).toMatch(/BadUserAccessDenied/);
    expect(await refusal({ ...USER, userName: 'nobody' })).toMatch(/BadUserAccessDenied/);
  }, 30_000);

  it('browses Store → Shelves → Facings, and reads BadDataUnavailable before any reading', async () => {
    const session = await connect();
    const names = async (path: string) => (await session.browse(`ns=1;s=${path}`)).references?.map((r) => r.browseName.name) ?? [];
    expect(await names('store')).toEqual(expect.arrayContaining(['Shelves', 'Kiosks', 'Alerts']));
    expect(await names('store/shelves')).toEqual(expect.arrayContaining(['shelf-a', 'shelf-b']));
    expect(await names('shelf/shelf-a')).toEqual(expect.arrayContaining(['facing-1', 'facing-2']));
    const facingParts = ['sku', 'productName', 'units', 'fillPercent', 'weightG', 'level', 'shelf-a.facing-1']; // the last: its scale
    expect(await names('shelf/shelf-a/facing/1')).toEqual(expect.arrayContaining(facingParts));

    // ns=1 is the gateway's own namespace, named after the store
    const namespaces = (await session.read({ nodeId: 'ns=0;i=2255', attributeId: AttributeIds.Value })).value.value as string[];
    expect(namespaces[1]).toBe('urn:smartstore-edge:test-store');
    expect(namespaces).toContain('http://opcfoundation.org/UA/Scales/V2/');
    expect((await read(session, 'shelf/shelf-a/facing/1/productName')).value.value).toBe('Oat milk 1 l');
    for (const path of ['units', 'fillPercent', 'level', 'weightG']) {
      expect((await read(session, `shelf/shelf-a/facing/1/${path}`)).statusCode, path).toEqual(StatusCodes.BadDataUnavailable);
    }
    for (const path of ['CurrentWeight', 'CurrentWeight-Gross']) {
      expect((await read(session, `scale/shelf-a/1-${path}`)).statusCode, path).toEqual(StatusCodes.BadDataUnavailable);
    }
  }, 30_000);

  it('a Scales-aware client finds every facing in DeviceSet as a ScaleDeviceType, with its mandatory parts', async () => {
    const session = await connect();
    const namespaces = (await session.read({ nodeId: 'ns=0;i=2255', attributeId: AttributeIds.Value })).value.value as string[];
    const scalesNs = namespaces.indexOf('http://opcfoundation.org/UA/Scales/V2/');
    const diNs = namespaces.indexOf('http://opcfoundation.org/UA/DI/');
    // ScaleDeviceType and every subtype of it, found by browsing HasSubtype as a client without our NodeIds does
    const scaleDeviceType = await session.translateBrowsePath(
      makeBrowsePath('i=88', `/0:BaseObjectType/${diNs}:TopologyElementType/${diNs}:ComponentType/${scalesNs}:ScaleDeviceType`),
    );
    expect(scaleDeviceType.statusCode).toEqual(StatusCodes.Good);
    const scaleTypes = new Set<string>();
    const queue = [(scaleDeviceType.targets ?? [])[0]?.targetId.toString() as string];
    while (queue.length > 0) {
      const type = queue.pop() as string;
      scaleTypes.add(type);
      const sub = await session.browse({ nodeId: type, referenceTypeId: 'HasSubtype', browseDirection: BrowseDirection.Forward });
      for (const ref of sub.references ?? []) if (!scaleTypes.has(ref.nodeId.toString())) queue.push(ref.nodeId.toString());
    }
    const deviceSet = await session.browse({ nodeId: `ns=${diNs};i=5001`, browseDirection: BrowseDirection.Forward, resultMask: 0x3f });
    const scales = (deviceSet.references ?? []).filter((r) => scaleTypes.has(r.typeDefinition.toString()));
    expect(scales.map((r) => r.browseName.name).sort()).toEqual(['shelf-a.facing-1', 'shelf-a.facing-2', 'shelf-b.facing-1']);

    const child = async (from: string, path: string) => {
      const result = await session.translateBrowsePath(makeBrowsePath(from, path));
      expect(result.statusCode, path).toEqual(StatusCodes.Good);
      return (result.targets ?? [])[0]?.targetId.toString() as string;
    };
    const scale = (scales.find((r) => r.browseName.name === 'shelf-a.facing-1') as { nodeId: NodeId }).nodeId.toString();
    const current = await child(scale, `/${scalesNs}:CurrentWeight`);
    for (const name of ['0:EngineeringUnits', '0:EURange', `${scalesNs}:Overload`, `${scalesNs}:Underload`, `${scalesNs}:TareMode`]) {
      await child(current, `.${name}`);
    }
    for (const name of ['Manufacturer', 'ProductInstanceUri', 'SerialNumber']) {
      await child(scale, `/${diNs}:Identification/${diNs}:${name}`);
    }
    const tareMode = await session.read({ nodeId: await child(current, `.${scalesNs}:TareMode`), attributeId: AttributeIds.Value });
    expect(tareMode.value.value).toBe(0); // None: the test planogram has no tare (PresetTare with one: unit test)
  }, 30_000);

  it('pushes a facing change to a monitored item after the shelf publishes over MQTT; the OPC 40200 weight follows', async () => {
    const session = await connect();
    const subscription = await session.createSubscription2({
      requestedPublishingInterval: 50,
      publishingEnabled: true,
      requestedMaxKeepAliveCount: 10,
      requestedLifetimeCount: 100,
    });
    const seen: unknown[] = [];
    const item = ClientMonitoredItem.create(
      subscription,
      { nodeId: 'ns=1;s=shelf/shelf-a/facing/1/units', attributeId: AttributeIds.Value },
      { samplingInterval: 0, queueSize: 10, discardOldest: true },
      TimestampsToReturn.Both,
    );
    item.on('changed', (dataValue: DataValue) => seen.push(dataValue.value.value));
    await eventually(() => (seen.length > 0 ? true : undefined), 5_000, 'the initial notification');
    expect(seen[0]).toBeNull(); // BadDataUnavailable: no value yet

    await publishWeight(6 * UNIT_G + 4);
    await eventually(() => (seen.includes(6) ? true : undefined), 5_000, 'units = 6 on the monitored item');
    await subscription.terminate();

    expect((await read(session, 'shelf/shelf-a/facing/1/fillPercent')).value.value).toBe(60);
    const weight = (await read(session, 'scale/shelf-a/1-CurrentWeight')).value.value as { gross: number; net: number; tare: number };
    expect(weight).toMatchObject({ gross: 6 * UNIT_G + 4, tare: 0, net: 6 * UNIT_G + 4 });
    expect((await read(session, 'scale/shelf-a/1-CurrentWeight-Gross')).value.value).toBe(6 * UNIT_G + 4);
    // smoothing window 1 in tests: one reading fills it
    expect((await read(session, 'scale/shelf-a/1-CurrentWeight-WeightStable')).value.value).toBe(true);
  }, 30_000);

  it('shows a kiosk registered while running, with its connection, status and last event pushed from MQTT', async () => {
    const session = await connect();
    const kiosk = await gw.connectDevice('kiosk-7', 'kiosk');
    await eventually(
      async () => ((await read(session, 'kiosk/kiosk-7/connected')).value.value === true ? true : undefined),
      5_000,
      'kiosk-7 connected',
    );
    expect((await read(session, 'kiosk/kiosk-7/state')).statusCode).toEqual(StatusCodes.BadDataUnavailable);
    await kiosk.publishAsync('store/test-store/kiosk/kiosk-7/status', JSON.stringify({ state: 'in-use', ts: Date.now() }), { qos: 1 });
    await kiosk.publishAsync(
      'store/test-store/kiosk/kiosk-7/event',
      JSON.stringify({ type: 'basket-open', basketId: 'b-1', ts: Date.now() }),
      { qos: 1 },
    );
    await eventually(
      async () => ((await read(session, 'kiosk/kiosk-7/lastEvent')).value.value === 'basket-open' ? true : undefined),
      5_000,
      'the last event',
    );
    expect((await read(session, 'kiosk/kiosk-7/state')).value.value).toBe('in-use');
    await kiosk.endAsync(true);
    await eventually(
      async () => ((await read(session, 'kiosk/kiosk-7/connected')).value.value === false ? true : undefined),
      5_000,
      'kiosk-7 gone',
    );
  }, 30_000);

  it('a second server on the same port fails to start naming the option to change', async () => {
    const port = gw.built.opcuaServer.port as number;
    const config = { ...gw.config.opcua.server, port, scalesNodeset: false };
    const second = new OpcuaServer({
      config,
      dataDir: clientPki,
      storeId: 'other',
      users: await OpcuaUserDirectory.fromConfig([], {}),
      log: pino({ level: 'silent' }),
      build: () => undefined,
    });
    const error = await second.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpcuaPortInUseError);
    expect((error as Error).message).toBe(
      `port ${port} is already in use — stop the other process or choose another port (opcua.server.port)`,
    );
  }, 30_000);

  it('acknowledges and resolves an alert through its methods, as the user who called them, seen over HTTP', async () => {
    const session = await connect();
    await publishWeight(1 * UNIT_G + 4); // low: an alert opens after the debounce
    const alert = await eventually(
      async () => {
        const body = (await (await gw.api('/api/alerts?state=active')).json()) as { alerts: Alert[] };
        return body.alerts.find((a) => a.kind === 'low-stock' && a.shelfId === 'shelf-a');
      },
      5_000,
      'a low-stock alert',
    );
    expect((await read(session, `alert/${alert.id}/state`)).value.value).toBe('open');

    const acknowledged = await session.call({
      objectId: `ns=1;s=alert/${alert.id}`,
      methodId: `ns=1;s=alert/${alert.id}/Acknowledge`,
      inputArguments: [],
    });
    expect(acknowledged.statusCode).toEqual(StatusCodes.Good);
    // Good is a promise: the change and its audit entry are committed (read through another connection to the file)
    const reader = new SqliteDatabase(gw.built.storage.db.path);
    await reader.open();
    try {
      expect(await reader.get('SELECT state, acknowledged_by AS "by" FROM alerts WHERE id = ?', [alert.id])).toEqual({
        state: 'acknowledged',
        by: USER.userName,
      });
      expect(await reader.get("SELECT actor FROM audit_log WHERE action = 'alert.acknowledged' AND subject = ?", [alert.id])).toEqual({
        actor: USER.userName,
      });
    } finally {
      await reader.close();
    }
    const overHttp = (await (await gw.api(`/api/alerts/${alert.id}`)).json()) as Alert;
    expect(overHttp).toMatchObject({ state: 'acknowledged', acknowledgedBy: USER.userName });
    expect((await read(session, `alert/${alert.id}/state`)).value.value).toBe('acknowledged');
    // a second acknowledge is refused as HTTP refuses it (409)
    const again = await session.call({
      objectId: `ns=1;s=alert/${alert.id}`,
      methodId: `ns=1;s=alert/${alert.id}/Acknowledge`,
      inputArguments: [],
    });
    expect(again.statusCode).toEqual(StatusCodes.BadInvalidState);

    const resolved = await session.call({
      objectId: `ns=1;s=alert/${alert.id}`,
      methodId: `ns=1;s=alert/${alert.id}/Resolve`,
      inputArguments: [{ dataType: DataType.String, value: 'restocked from the back room' }],
    });
    expect(resolved.statusCode).toEqual(StatusCodes.Good);
    expect((await (await gw.api(`/api/alerts/${alert.id}`)).json()) as Alert).toMatchObject({
      state: 'resolved',
      resolvedBy: USER.userName,
      resolution: 'restocked from the back room',
    });
    // resolved alerts leave the address space
    expect((await read(session, `alert/${alert.id}/state`)).statusCode).toEqual(StatusCodes.BadNodeIdUnknown);
  }, 30_000);

  it('a generic A&C client sees a low-stock alarm on the Server object, refreshes, acknowledges it, and HTTP shows it', async () => {
    const session = await connect();
    // the previous test left facing 1 low with its alert resolved by hand: restock it first
    await publishWeight(6 * UNIT_G + 4);
    // the level is debounced: wait for it, not the units, or the next low reading is the same low spell
    const level = async (): Promise<unknown> => (await read(session, 'shelf/shelf-a/facing/1/level')).value.value;
    await eventually(async () => ((await level()) === 'ok' ? true : undefined), 5_000, 'restocked');

    const FIELDS = ['EventId', 'EventType', 'ConditionId', 'SourceName', 'Time', 'Message', 'Severity', 'ConditionName', 'Retain'];
    FIELDS.push('AckedState.Id', 'ActiveState.Id', 'Comment', '1:AlertId');
    const subscription = await session.createSubscription2({
      requestedPublishingInterval: 50,
      publishingEnabled: true,
      requestedMaxKeepAliveCount: 10,
      requestedLifetimeCount: 100,
    });
    const events: Array<Record<string, unknown>> = [];
    const item = ClientMonitoredItem.create(
      subscription,
      { nodeId: ObjectIds.Server, attributeId: AttributeIds.EventNotifier },
      { samplingInterval: 0, queueSize: 1000, discardOldest: true, filter: constructEventFilter(FIELDS) },
      TimestampsToReturn.Neither,
    );
    item.on('changed', (values: Variant[]) => events.push(Object.fromEntries(FIELDS.map((name, i) => [name, values[i]?.value]))));
    await eventually(() => (item.monitoredItemId !== undefined ? true : undefined), 5_000, 'the event item');
    const typeOf = (event: Record<string, unknown>) => (event.EventType as NodeId).toString();
    const alarmEvent = (alertId: string, match: (event: Record<string, unknown>) => boolean) => () =>
      events.find((e) => e['1:AlertId'] === alertId && match(e));

    await publishWeight(1 * UNIT_G + 4);
    const alert = await eventually(
      async () => {
        const body = (await (await gw.api('/api/alerts?state=active')).json()) as { alerts: Alert[] };
        return body.alerts.find((a) => a.kind === 'low-stock' && a.shelfId === 'shelf-a' && a.facing === 1);
      },
      5_000,
      'a low-stock alert',
    );
    const raised = await eventually(
      alarmEvent(alert.id, (e) => e['ActiveState.Id'] === true),
      5_000,
      'the alarm event',
    );
    expect(raised).toMatchObject({ ConditionName: 'low-stock', SourceName: 'shelf-a/facing-1', Retain: true, 'AckedState.Id': false });
    expect(raised.Severity).toBe({ warning: 500, critical: 900 }[alert.severity]);
    expect((raised.Message as { text: string }).text).toBe(alert.title);
    expect(raised.Time).toBeInstanceOf(Date);
    expect((raised.Time as Date).getTime()).toBe(alert.openedAt);
    const conditionId = raised.ConditionId as NodeId;
    expect(conditionId.toString()).toBe(`ns=1;s=alert/${alert.id}/condition`);

    // ConditionRefresh (Part 9 §5.5.7): the retained alarm again, between RefreshStart and RefreshEnd
    const before = events.length;
    const refresh = await session.call({
      objectId: new NodeId(NodeId.NodeIdType.NUMERIC, ObjectTypeIds.ConditionType, 0),
      methodId: new NodeId(NodeId.NodeIdType.NUMERIC, MethodIds.ConditionType_ConditionRefresh, 0),
      inputArguments: [{ dataType: DataType.UInt32, value: subscription.subscriptionId }],
    });
    expect(refresh.statusCode).toEqual(StatusCodes.Good);
    const refreshed = await eventually(
      () => {
        const since = events.slice(before);
        const end = since.findIndex((e) => typeOf(e) === `ns=0;i=${ObjectTypeIds.RefreshEndEventType}`);
        return end >= 0 ? since.slice(0, end + 1) : undefined;
      },
      5_000,
      'RefreshEnd',
    );
    expect(typeOf(refreshed[0] as Record<string, unknown>)).toBe(`ns=0;i=${ObjectTypeIds.RefreshStartEventType}`);
    expect(refreshed.filter((e) => e['1:AlertId'] === alert.id)).toHaveLength(1);

    // the standard Acknowledge, as UaExpert calls it: the type's MethodId on the condition, with EventId and comment
    const latest = [...events].reverse().find((e) => e['1:AlertId'] === alert.id) as Record<string, unknown>;
    const acknowledged = await session.call({
      objectId: conditionId,
      methodId: new NodeId(NodeId.NodeIdType.NUMERIC, MethodIds.AcknowledgeableConditionType_Acknowledge, 0),
      inputArguments: [
        { dataType: DataType.ByteString, value: latest.EventId },
        { dataType: DataType.LocalizedText, value: { text: 'on my way' } },
      ],
    });
    expect(acknowledged.statusCode).toEqual(StatusCodes.Good);
    // Good is a promise: the change and its audit entry are committed (read through another connection to the file)
    const reader = new SqliteDatabase(gw.built.storage.db.path);
    await reader.open();
    try {
      const row = await reader.get('SELECT state, acknowledged_by AS "by" FROM alerts WHERE id = ?', [alert.id]);
      expect(row).toEqual({ state: 'acknowledged', by: USER.userName });
      const audit = await reader.get("SELECT actor FROM audit_log WHERE action = 'alert.acknowledged' AND subject = ?", [alert.id]);
      expect(audit).toEqual({ actor: USER.userName });
    } finally {
      await reader.close();
    }
    const overHttp = (await (await gw.api(`/api/alerts/${alert.id}`)).json()) as Alert;
    expect(overHttp).toMatchObject({ state: 'acknowledged', acknowledgedBy: USER.userName });
    const ackedEvent = await eventually(
      alarmEvent(alert.id, (e) => e['AckedState.Id'] === true),
      5_000,
      'the acknowledged event',
    );
    expect(ackedEvent).toMatchObject({ 'ActiveState.Id': true, Retain: true });
    expect((ackedEvent.Comment as { text: string }).text).toBe('on my way');

    // restocked: the gateway resolves the alert and the condition goes inactive with Retain=false
    await publishWeight(6 * UNIT_G + 4);
    await eventually(
      alarmEvent(alert.id, (e) => e['ActiveState.Id'] === false && e.Retain === false),
      5_000,
      'the alarm cleared',
    );
    expect(((await (await gw.api(`/api/alerts/${alert.id}`)).json()) as Alert).state).toBe('resolved');
    await subscription.terminate();
  }, 30_000);
});
