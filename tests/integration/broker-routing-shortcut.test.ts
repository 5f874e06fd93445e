import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceMessage } from '../../edge/device-registry/messages.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

/**
 * The gateway's broker skips aedes' subscription match, and for QoS 1 its stored-subscription lookup, for device
 * messages nobody can be subscribed to (edge/broker/routing-shortcut.ts, persistence-shortcut.ts). Guarded here on the
 * real gateway: both shortcuts are in place with the aedes this project runs (an upgrade that moves aedes' emitter or
 * persistence fails this test instead of silently losing the saving), a reading still reaches the pipelines, and a
 * command still reaches the device subscribed to its command topic.
 */
describe('broker routing shortcut', () => {
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
    const before = broker.unroutedMessages;
    const unqueuedBefore = broker.unqueuedMessages;
    expect(before).toBeDefined();
    expect(unqueuedBefore).toBeDefined();
    await shelf.publishAsync('store/test-store/shelf/shelf-a/weight', JSON.stringify({ facing: 1, weightG: 1234, ts: Date.now() }), {
      qos: 1,
    });
    await eventually(() => expect(readings.map((m) => m.payload)).toEqual([expect.objectContaining({ facing: 1, weightG: 1234 })]));
    expect((broker.unroutedMessages as number) - (before as number)).toBe(1);
    // QoS 1: no persistent session's stored subscription was looked up for it either
    expect((broker.unqueuedMessages as number) - (unqueuedBefore as number)).toBe(1);

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
