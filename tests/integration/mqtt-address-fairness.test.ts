/**
 * Connection fairness per client address (issue 17): one address holding 1,000 idle sockets cannot stop a device on
 * another address from connecting; its connection attempts a minute are limited too. Two loopback addresses
 * (127.0.0.2 for the attacker, 127.0.0.1 for the device) stand for two machines on the store network.
 */
import { connect, type Socket } from 'node:net';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

let gw: TestGateway | undefined;
const sockets = new Set<Socket>();
afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await gw?.dispose();
  gw = undefined;
});

/** Opens an idle socket from `localAddress`; resolves once connected (the broker may refuse it right after). */
function openSocket(port: number, localAddress: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress });
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => socket.destroy());
    socket.once('connect', () => resolve());
  });
}

/** Opens an idle socket from `localAddress`; resolves whether the broker kept it open past a round trip or closed it. */
function idleSocket(port: number, localAddress: string): Promise<'open' | 'closed'> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress });
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => resolve('closed'));
    // refused sockets are destroyed right after accept; a kept one is still open a little later
    socket.once('connect', () => setTimeout(() => resolve(socket.destroyed ? 'closed' : 'open'), 200));
  });
}

const rejected = (g: TestGateway, reason: string) => g.built.metrics.value('smartstore_mqtt_connections_rejected_total', { reason });

describe('MQTT connection fairness per address', () => {
  it('1,000 idle sockets from one address: the limit is held, the rest refused and counted; another address connects', async () => {
    gw = await startTestGateway({
      overrides: {
        mqtt: {
          maxConnections: 500,
          maxConnectionsPerAddress: 20,
          maxConnectAttemptsPerAddressPerMinute: 1_000_000,
          connectTimeoutMs: 30_000,
        },
      },
    });
    const port = gw.built.broker.port;
    await Promise.all(Array.from({ length: 1_000 }, () => openSocket(port, '127.0.0.2')));
    await eventually(async () => ((await rejected(gw!, 'too-many-from-address')) === 980 ? true : undefined), 5_000, '980 refusals');
    await eventually(
      () => ([...sockets].filter((socket) => !socket.destroyed).length === 20 ? true : undefined),
      5_000,
      'the 20 kept sockets',
    );

    const device = await gw.connectDevice('shelf-a', 'shelf');
    expect(device.connected).toBe(true);
    await device.publishAsync('store/test-store/shelf/shelf-a/weight', JSON.stringify({ facing: 1, weightG: 5_200, ts: Date.now() }), {
      qos: 1,
    });
    await eventually(() => gw!.built.stock.stockIfStarted?.get('shelf-a', 1)?.units ?? undefined, 2_000, 'the reading to arrive');

    // the attacker's slots come back when its sockets close
    for (const socket of sockets) socket.destroy();
    await eventually(
      async () => ((await idleSocket(port, '127.0.0.2')) === 'open' ? true : undefined),
      2_000,
      'a slot for 127.0.0.2 again',
    );
  });

  it('connection attempts a minute per address: past the limit new sockets are refused at once, other addresses are not', async () => {
    gw = await startTestGateway({ overrides: { mqtt: { maxConnectionsPerAddress: 1_000, maxConnectAttemptsPerAddressPerMinute: 30 } } });
    const port = gw.built.broker.port;
    const outcomes: string[] = [];
    for (let i = 0; i < 40; i++) {
      const outcome = await idleSocket(port, '127.0.0.3');
      outcomes.push(outcome);
      for (const socket of sockets) socket.destroy();
    }
    expect(outcomes.filter((o) => o === 'open')).toHaveLength(30);
    expect(outcomes.slice(30)).toEqual(Array(10).fill('closed'));
    expect(await rejected(gw, 'too-many-attempts-from-address')).toBe(10);
    const secret = await gw.built.devices.registry.provision('esl-1', 'esl');
    const client = await mqtt.connectAsync(gw.mqttUrl, { clientId: 'esl-1', username: 'esl-1', password: secret, reconnectPeriod: 0 });
    expect(client.connected).toBe(true);
    await client.endAsync();
  });
});
