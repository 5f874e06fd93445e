import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceMessage } from '../../edge/device-registry/messages.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

/**
 * The gateway's broker hands a device message nobody can be subscribed to straight to its ingest, without aedes'
 * publish steps (edge/broker/publish-shortcut.ts, which asks the subscription mirrors of routing-shortcut.ts and
 * persistence-shortcut.ts). Guarded here on the real gateway: the shortcuts are in place with the aedes this project
 * runs (an upgrade that moves aedes' publish, emitter or persistence fails this test instead of silently losing the
 * saving), readings at QoS 0 and 1 still reach the pipelines, and a command still reaches the device subscribed to its
 * command topic.
 */
describe('broker publish shortcut', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(async () => gw.dispose());

  it('ingests a reading without routing it, and still delivers a command to its subscriber', async () => {
    const readings: DeviceMessage[] = [];
    gw.built.bus.on('device.message:shelf/weight', 'test-readings', (message) => readings.push(message));
    const shelf = await gw.connectDevice('shelf-a', 'shelf');
    const cmdTopic = 'store/test-store/shelf/shelf-a/cmd';
    const commands: string[] = [];
    shelf.on('message', (topic, payload) => {
      if (topic === cmdTopic) commands.push(payload.toString());
    });
    await shelf.subscribeAsync(cmdTopic, { qos: 1 });

    const broker = gw.built.broker;
    expect(broker.unroutedMessages).toBeDefined();
    expect(broker.unqueuedMessages).toBeDefined();
    const before = broker.directlyPublished as number;
    expect(before).toBeDefined();
    for (const qos of [0, 1] as const) {
      await shelf.publishAsync(
        'store/test-store/shelf/shelf-a/weight',
        JSON.stringify({ facing: 1, weightG: 1000 + qos, ts: Date.now() }),
        {
          qos,
        },
      );
    }
    await eventually(() =>
      expect(readings.map((m) => m.payload)).toEqual([
        expect.objectContaining({ facing: 1, weightG: 1000 }),
        expect.objectContaining({ facing: 1, weightG: 1001 }),
      ]),
    );
    expect((broker.directlyPublished as number) - before).toBe(2);

    const delivery = broker.deliver(
      { cmdId: 'c-1', deviceId: 'shelf-a', kind: 'shelf', payload: { cmdId: 'c-1', type: 'tare', ts: Date.now() } },
      () => undefined,
    );
    expect(delivery).toEqual({ ok: true });
    await eventually(() =>
      expect(commands.map((c) => JSON.parse(c) as { cmdId: string })).toEqual([expect.objectContaining({ cmdId: 'c-1' })]),
    );
  });
});
