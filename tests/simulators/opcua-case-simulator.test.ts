import { AttributeIds, OPCUAClient, makeBrowsePath, type ClientSession } from 'node-opcua-client';
import { afterEach, describe, expect, it } from 'vitest';
import { CASE_BROWSE_PATHS, OpcuaCaseSimulator } from '../../devices/opcua-case-simulator.js';

/** A plain node-opcua client, not the gateway's driver: the simulator is checked on its own. */
async function withSession<T>(endpointUrl: string, work: (session: ClientSession) => Promise<T>): Promise<T> {
  const client = OPCUAClient.create({ endpointMustExist: false, connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 } });
  await client.connect(endpointUrl);
  try {
    const session = await client.createSession();
    try {
      return await work(session);
    } finally {
      await session.close();
    }
  } finally {
    await client.disconnect();
  }
}

async function readCase(session: ClientSession, nodeIds: { temperatureC: string; doorOpen: string }) {
  const [temperature, door] = await session.read([
    { nodeId: nodeIds.temperatureC, attributeId: AttributeIds.Value },
    { nodeId: nodeIds.doorOpen, attributeId: AttributeIds.Value },
  ]);
  return { temperatureC: temperature?.value.value as number, doorOpen: door?.value.value as boolean, status: temperature?.statusCode.name };
}

describe('OPC UA refrigerated case simulator', () => {
  let simulator: OpcuaCaseSimulator | undefined;
  afterEach(async () => simulator?.stop());

  it('serves temperature and door on port 0, steered from the test', async () => {
    simulator = new OpcuaCaseSimulator({ port: 0, temperatureC: 3, noiseC: 0.1, updateIntervalMs: 50 });
    await simulator.start();
    expect(simulator.port).toBeGreaterThan(0);
    await withSession(simulator.endpointUrl, async (session) => {
      const before = await readCase(session, simulator!.nodeIds);
      expect(before.status).toBe('Good');
      expect(before.temperatureC).toBeGreaterThanOrEqual(2.9);
      expect(before.temperatureC).toBeLessThanOrEqual(3.1);
      expect(before.doorOpen).toBe(false);
      simulator!.setTemperature(9);
      simulator!.openDoor();
      const after = await readCase(session, simulator!.nodeIds);
      expect(after.temperatureC).toBeGreaterThan(8.8);
      expect(after.doorOpen).toBe(true);
      // the browse paths a driver config uses resolve to the same variables
      const [resolved] = await session.translateBrowsePath([makeBrowsePath('ObjectsFolder', CASE_BROWSE_PATHS.temperatureC)]);
      expect(resolved?.targets?.[0]?.targetId.toString()).toBe(simulator!.nodeIds.temperatureC);
    });
  });

  it('restarts on the same port, with new NodeIds when renumbered', async () => {
    simulator = new OpcuaCaseSimulator({ port: 0, updateIntervalMs: 50 });
    await simulator.start();
    const port = simulator.port;
    const oldIds = simulator.nodeIds;
    await simulator.restart({ renumber: true });
    expect(simulator.port).toBe(port);
    expect(simulator.nodeIds.temperatureC).not.toBe(oldIds.temperatureC);
    await withSession(simulator.endpointUrl, async (session) => {
      const [stale] = await session.read([{ nodeId: oldIds.temperatureC, attributeId: AttributeIds.Value }]);
      expect(stale?.statusCode.name).toBe('BadNodeIdUnknown');
      const [resolved] = await session.translateBrowsePath([makeBrowsePath('ObjectsFolder', CASE_BROWSE_PATHS.temperatureC)]);
      expect(resolved?.targets?.[0]?.targetId.toString()).toBe(simulator!.nodeIds.temperatureC);
    });
  });
});
