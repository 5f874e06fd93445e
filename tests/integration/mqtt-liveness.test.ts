/**
 * Issue 21 §3: `connected` matches the open sockets. A device whose first PUBLISH is refused right after CONNECT
 * (aedes emits clientReady after it closed the client) must not stay `connected: true` forever; and after any sequence
 * of connects, takeovers (same client id), clean disconnects, socket destroys and forbidden first publishes, a device
 * is connected exactly while an open socket of it exists (property test, seeded).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../devices/random.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { RawMqttConnection, connectBytes, publishBytes } from './raw-mqtt-client.js';

const DEVICES = ['shelf-p1', 'shelf-p2', 'shelf-p3'] as const;
const SECRET = 'liveness-secret-0123456789abcdef';
const SEQUENCES = 30;
const STEPS = 20;

const weightTopic = (id: string) => `store/test-store/shelf/${id}/weight`;
/** another device's topic: the ACL refuses it and aedes closes the connection */
const forbiddenTopic = (id: string) => `store/test-store/shelf/${id === 'shelf-p1' ? 'shelf-p2' : 'shelf-p1'}/weight`;
const reading = () => JSON.stringify({ facing: 1, weightG: 100, ts: Date.now() });

/** A test socket, and whether the test did something that must close it (DISCONNECT, destroy, a forbidden publish). */
type Tracked = { c: RawMqttConnection; doomed: boolean };

describe('device liveness follows the open sockets', () => {
  let gw: TestGateway;
  const open = new Set<RawMqttConnection>();

  beforeAll(async () => {
    gw = await startTestGateway();
    for (const id of DEVICES) await gw.built.devices.registry.provision(id, 'shelf', SECRET);
  });
  afterAll(async () => {
    for (const connection of open) connection.destroy();
    await gw.dispose();
  });

  async function connection(): Promise<RawMqttConnection> {
    const c = await RawMqttConnection.open(gw.built.broker.port);
    open.add(c);
    return c;
  }

  const connectOf = (id: string) => connectBytes({ clientId: id, username: id, password: SECRET, keepalive: 30 });

  /** What `GET /api/devices` says about a device. */
  async function connectedAsSeen(id: string): Promise<boolean> {
    const body = (await (await gw.api('/api/devices')).json()) as { devices: { id: string; connected: boolean }[] };
    return body.devices.find((device) => device.id === id)?.connected ?? false;
  }

  /**
   * Waits until the sockets are quiescent — every socket the test ended (DISCONNECT, destroy) or made break the ACL is
   * closed, takeovers are done (at most one open socket per device: which one wins depends on whose secret check ends
   * last) and the open ones have their CONNACK — then until the gateway's view *becomes* what the sockets say.
   */
  async function settledView(connections: Map<string, Tracked[]>): Promise<void> {
    for (const list of connections.values()) for (const t of list) if (t.doomed) await t.c.closed();
    for (const id of DEVICES) {
      const openOf = () => (connections.get(id) ?? []).filter((t) => t.c.closedAt === undefined);
      await eventually(() => (openOf().length <= 1 ? true : undefined), 5_000, `${id}: takeovers done`);
      for (const t of openOf()) expect(await t.c.connack()).toBe(0);
      const expected = openOf().length === 1;
      await eventually(
        () => (gw.built.devices.liveness.isConnected(id) === expected ? true : undefined),
        5_000,
        `${id} connected=${expected}`,
      );
    }
  }

  it.each([
    ['a first PUBLISH the ACL refuses, in the same write as the CONNECT', 'forbidden-with-connect'],
    ['the same from two sockets at once (a device retrying on a second socket)', 'two-forbidden'],
    ['a socket destroyed the moment its CONNECT is written', 'destroy-after-connect'],
  ] as const)('%s: the device ends up not connected', async (_name, mode) => {
    const forbidden = publishBytes(forbiddenTopic('shelf-p1'), reading(), 1);
    const sockets = await Promise.all((mode === 'two-forbidden' ? [1, 2] : [1]).map(() => connection()));
    for (const c of sockets) {
      if (mode === 'destroy-after-connect') {
        c.write(connectOf('shelf-p1'));
        setImmediate(() => c.destroy());
      } else c.write(connectOf('shelf-p1'), forbidden);
    }
    for (const c of sockets) await c.closed();
    // a full good session of the same device afterwards — connected, then cleanly gone — must end at "not connected"
    const good = await connection();
    good.write(connectOf('shelf-p1'));
    expect(await good.connack()).toBe(0);
    await eventually(async () => ((await connectedAsSeen('shelf-p1')) ? true : undefined), 5_000, 'shelf-p1 connected');
    good.write(Buffer.from([0xe0, 0x00])); // DISCONNECT
    await good.closed();
    await eventually(async () => ((await connectedAsSeen('shelf-p1')) === false ? true : undefined), 5_000, 'shelf-p1 not connected');
    expect(gw.built.broker.connectedDevices).toBe(0);
  });

  it('after any seeded mix of connects, takeovers, disconnects, destroys, forbidden publishes: connected = an open socket', async () => {
    type Step = 'connect' | 'connect-forbidden' | 'disconnect' | 'destroy' | 'publish' | 'publish-forbidden';
    const steps: readonly Step[] = ['connect', 'connect', 'connect-forbidden', 'disconnect', 'destroy', 'publish', 'publish-forbidden'];
    for (let sequence = 0; sequence < SEQUENCES; sequence++) {
      const random = seededRandom(0x21_03 + sequence);
      const connections = new Map<string, Tracked[]>();
      const log: string[] = [];
      for (let i = 0; i < STEPS; i++) {
        const id = DEVICES[Math.floor(random() * DEVICES.length)]!;
        const step = steps[Math.floor(random() * steps.length)]!;
        const newest = (connections.get(id) ?? []).filter((t) => t.c.closedAt === undefined).at(-1);
        log.push(`${step} ${id}`);
        switch (step) {
          case 'connect':
          case 'connect-forbidden': {
            // a second connect of the same id is a takeover: aedes closes the older connection
            const t: Tracked = { c: await connection(), doomed: step === 'connect-forbidden' };
            connections.set(id, [...(connections.get(id) ?? []), t]);
            t.c.write(...(step === 'connect' ? [connectOf(id)] : [connectOf(id), publishBytes(forbiddenTopic(id), reading(), 1)]));
            break;
          }
          case 'disconnect':
            newest?.c.write(Buffer.from([0xe0, 0x00]));
            if (newest) newest.doomed = true;
            break;
          case 'destroy':
            newest?.c.destroy();
            if (newest) newest.doomed = true;
            break;
          case 'publish':
            newest?.c.write(publishBytes(weightTopic(id), reading(), 0));
            break;
          case 'publish-forbidden':
            newest?.c.write(publishBytes(forbiddenTopic(id), reading(), 0));
            if (newest) newest.doomed = true;
            break;
        }
        // steps land back to back or a little apart, so aedes sees them in every interleaving
        if (random() < 0.5) await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 15)));
      }
      try {
        await settledView(connections);
      } catch (error) {
        throw new Error(`sequence ${sequence} (${log.join(', ')}): ${(error as Error).message}`, { cause: error });
      }
      for (const list of connections.values()) for (const t of list) t.c.destroy();
      for (const list of connections.values()) for (const t of list) await t.c.closed();
      for (const c of [...open]) if (c.closedAt !== undefined) open.delete(c);
      for (const id of DEVICES)
        await eventually(
          () => (gw.built.devices.liveness.isConnected(id) ? undefined : true),
          5_000,
          `${id} gone after sequence ${sequence}`,
        );
      expect(gw.built.broker.connectedDevices).toBe(0);
    }
  });
});
