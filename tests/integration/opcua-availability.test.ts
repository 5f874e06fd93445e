/**
 * Availability for online orders on the OPC UA address space, read as a generic client would: a real gateway (aedes,
 * SQLite, OPC UA on port 0, security None on loopback and a named user — the gateway allows no anonymous session),
 * node-opcua's client finding the store's namespace by its URI, the variable by browse names (Store / Availability /
 * <sku>), reading it, and seeing it follow the shelf's readings over MQTT — the same units GET /api/availability gives.
 */
import type { MqttClient } from 'mqtt';
import {
  AttributeIds,
  makeBrowsePath,
  MessageSecurityMode,
  OPCUAClient,
  SecurityPolicy,
  StatusCodes,
  UserTokenType,
  type ClientSession,
  type DataValue,
} from 'node-opcua-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SkuAvailability } from '../../edge/insight/availability.js';
import { hashOpcuaPassword } from '../../edge/opcua/opcua-users.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const MILK = '4000000000017'; // shelf-a facing 1, 1040 g a unit, its only facing
const CHOCOLATE = '4000000000031'; // shelf-b facing 1: never reads in this test
const SAFETY_UNITS = 2;
/** HQ's online-shop reader, as store IT would configure it */
const READER = { type: UserTokenType.UserName, userName: 'online-shop', password: 'stock for the web shop' } as const;

describe('OPC UA: availability per sku', () => {
  let gw: TestGateway;
  let client: OPCUAClient;
  let session: ClientSession;
  let shelf: MqttClient;

  beforeAll(async () => {
    gw = await startTestGateway({
      overrides: {
        opcua: {
          server: {
            enabled: true,
            host: '127.0.0.1',
            hostname: '127.0.0.1',
            port: 0,
            users: [{ username: READER.userName, passwordHash: await hashOpcuaPassword(READER.password, 1024) }],
            allowUnsecured: true,
            scalesNodeset: false,
          },
        },
        insight: { availabilitySafetyUnits: SAFETY_UNITS, availabilityCoalesceSec: 1 },
      },
    });
    client = OPCUAClient.create({
      applicationName: 'opcua-availability-test',
      securityMode: MessageSecurityMode.None,
      securityPolicy: SecurityPolicy.None,
      endpointMustExist: false,
      connectionStrategy: { maxRetry: 0, initialDelay: 50, maxDelay: 100 },
    });
    await client.connect(gw.built.opcuaServer.endpointUrl as string);
    session = await client.createSession(READER);
    shelf = await gw.connectDevice('shelf-a', 'shelf');
  }, 60_000);

  afterAll(async () => {
    await session?.close().catch(() => undefined);
    await client?.disconnect().catch(() => undefined);
    await gw?.dispose();
  });

  /** The variable of a sku as a client without our NodeIds finds it: Objects / Store / Availability / <sku>. */
  const availabilityNode = async (sku: string): Promise<string> => {
    const namespaces = (await session.read({ nodeId: 'ns=0;i=2255', attributeId: AttributeIds.Value })).value.value as string[];
    const ns = namespaces.indexOf('urn:smartstore-edge:test-store');
    expect(ns).toBeGreaterThan(0);
    const found = await session.translateBrowsePath(makeBrowsePath('i=85', `/${ns}:Store/${ns}:Availability/${ns}:${sku}`));
    expect(found.statusCode).toEqual(StatusCodes.Good);
    return (found.targets ?? [])[0]?.targetId.toString() as string;
  };
  const read = (nodeId: string): Promise<DataValue> => session.read({ nodeId, attributeId: AttributeIds.Value });
  const units = (n: number) =>
    shelf.publishAsync('store/test-store/shelf/shelf-a/weight', JSON.stringify({ facing: 1, weightG: n * 1040, ts: Date.now() }), {
      qos: 1,
    });
  const apiAvailable = async (sku: string): Promise<number | undefined> => {
    const body = (await (await gw.api(`/api/availability?sku=${sku}`)).json()) as { availability: SkuAvailability[] };
    return body.availability.find((a) => a.sku === sku)?.availableUnits;
  };

  it('one variable per sku of the planogram under Store/Availability, BadDataUnavailable before its shelf reads', async () => {
    const folder = await session.browse('ns=1;s=store/availability');
    expect((folder.references ?? []).map((r) => r.browseName.name).sort()).toEqual(['4000000000017', '4000000000024', CHOCOLATE]);
    for (const sku of [MILK, CHOCOLATE])
      expect((await read(await availabilityNode(sku))).statusCode, sku).toEqual(StatusCodes.BadDataUnavailable);
  }, 30_000);

  it('reads the units HQ may promise (on the shelf minus the buffer) and follows a reading', async () => {
    const milk = await availabilityNode(MILK);
    await units(8);
    const first = await eventually(
      async () => {
        const value = await read(milk);
        return value.statusCode === StatusCodes.Good ? value : undefined;
      },
      10_000,
      'the first availability of oat milk',
    );
    expect(first.value.value).toBe(8 - SAFETY_UNITS);
    expect(await apiAvailable(MILK)).toBe(8 - SAFETY_UNITS);

    await units(5);
    await eventually(async () => ((await read(milk)).value.value === 5 - SAFETY_UNITS ? true : undefined), 10_000, 'oat milk at 3');
    expect(await apiAvailable(MILK)).toBe(5 - SAFETY_UNITS);
    // a sku whose shelf never read stays unknown
    expect((await read(await availabilityNode(CHOCOLATE))).statusCode).toEqual(StatusCodes.BadDataUnavailable);
  }, 30_000);
});
