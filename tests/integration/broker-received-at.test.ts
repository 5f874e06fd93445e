import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { RawMqttConnection, connectBytes, publishBytes } from './raw-mqtt-client.js';

/**
 * A QoS 0 reading takes the clock read of its authorization as its receivedAt (device-broker.ts, BrokerSession
 * `admitted`), a QoS 1 one reads the clock when it is ingested. Guarded: with QoS 0 and QoS 1 readings of one device
 * in one TCP write (aedes authorizes every PUBLISH of the chunk before it ingests the first QoS 1 one, after its
 * PUBACK), every reading's receivedAt is later than the one ingested before it — an admission time kept for a message
 * ingested later would break the order. The gateway's clock ticks on every read.
 */
describe('receivedAt of pipelined readings', () => {
  let gw: TestGateway;
  let clock = Date.now();
  beforeAll(async () => {
    gw = await startTestGateway({ now: () => ++clock });
  });
  afterAll(async () => gw.dispose());

  it('is strictly increasing in the order readings are ingested, at QoS 0 and QoS 1 mixed', async () => {
    const received: Array<{ ts: number; receivedAt: number }> = [];
    gw.built.bus.on('device.message:shelf/weight', 'test-received-at', (message) =>
      received.push({ ts: message.payload.ts, receivedAt: message.receivedAt }),
    );
    const secret = await gw.built.devices.registry.provision('shelf-a', 'shelf');
    const connection = await RawMqttConnection.open(gw.built.broker.port);
    try {
      connection.write(connectBytes({ clientId: 'shelf-a', username: 'shelf-a', password: secret }));
      expect(await connection.connack()).toBe(0);
      const count = 60;
      const topic = 'store/test-store/shelf/shelf-a/weight';
      const publishes = Array.from({ length: count }, (_, i) =>
        publishBytes(topic, JSON.stringify({ facing: 1, weightG: 1000 + i, ts: i + 1 }), i % 3 === 0 ? 0 : 1, i + 1),
      );
      connection.write(Buffer.concat(publishes));
      await eventually(() => expect(received).toHaveLength(count));
      for (let i = 1; i < received.length; i++) expect(received[i]?.receivedAt).toBeGreaterThan(received[i - 1]?.receivedAt as number);
      expect(new Set(received.map((r) => r.ts)).size).toBe(count);
    } finally {
      connection.destroy();
    }
  });
});
