import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CASE_BROWSE_PATHS, OpcuaCaseSimulator } from '../../devices/opcua-case-simulator.js';
import type { CommandResult } from '../../edge/device-registry/command-channel.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const cmdTopic = (id: string) => `store/test-store/esl/${id}/cmd`;
const ackTopic = (id: string) => `store/test-store/esl/${id}/ack`;

type Command = { cmdId: string; type: string; sku?: string; priceCents?: number; ts: number };

/** An ESL on real MQTT: subscribes to its command topic and answers each command with `answer(command)` (or not at all). */
async function label(
  gw: TestGateway,
  id: string,
  answer: (command: Command) => { ok: boolean; error?: string } | undefined,
): Promise<{ client: MqttClient; received: Command[] }> {
  const client = await gw.connectDevice(id, 'esl');
  const received: Command[] = [];
  client.on('message', (topic, payload) => {
    if (topic !== cmdTopic(id)) return;
    const command = JSON.parse(payload.toString()) as Command;
    received.push(command);
    const reply = answer(command);
    // the gateway resolves the command on the ack itself; its PUBACK may still be on the way when the test ends the client
    if (reply)
      client
        .publishAsync(ackTopic(id), JSON.stringify({ cmdId: command.cmdId, ...reply, ts: Date.now() }), { qos: 1 })
        .catch(() => undefined);
  });
  await client.subscribeAsync(cmdTopic(id), { qos: 1 });
  return { client, received };
}

describe('commands to labels over MQTT', () => {
  let gw: TestGateway;
  let published: CommandResult[];
  beforeEach(async () => {
    gw = await startTestGateway();
    published = [];
    gw.built.bus.on('command.result', 'test-results', (result) => published.push(result));
  });
  afterEach(async () => gw?.dispose());

  const outcomes = async () => {
    const value = (outcome: string) => gw.built.metrics.value('smartstore_device_commands_total', { outcome });
    return {
      confirmed: await value('confirmed'),
      rejected: await value('rejected'),
      'timed-out': await value('timed-out'),
      dropped: await value('dropped'),
    };
  };
  const setPrice = (deviceId: string, timeoutMs = 5_000) =>
    gw.built.devices.commands.send({
      deviceId,
      kind: 'esl',
      type: 'set-price',
      params: { sku: '4000000000017', priceCents: 219 },
      timeoutMs,
    });

  it('confirmed: the label receives the command and acks ok', async () => {
    const esl = await label(gw, 'esl-ok', () => ({ ok: true }));
    const result = await setPrice('esl-ok');
    expect(result).toMatchObject({
      deviceId: 'esl-ok',
      kind: 'esl',
      type: 'set-price',
      outcome: 'confirmed',
      ack: { cmdId: result.cmdId, ok: true },
    });
    expect(esl.received).toEqual([{ cmdId: result.cmdId, type: 'set-price', sku: '4000000000017', priceCents: 219, ts: result.sentAt }]);
    expect(published).toEqual([result]);
    expect(await outcomes()).toEqual({ confirmed: 1, rejected: 0, 'timed-out': 0, dropped: 0 });
  });

  it('rejected: the label acks ok:false with its error', async () => {
    await label(gw, 'esl-no', () => ({ ok: false, error: 'sku not on this label' }));
    const result = await setPrice('esl-no');
    expect(result).toMatchObject({
      outcome: 'rejected',
      detail: 'sku not on this label',
      ack: { ok: false, error: 'sku not on this label' },
    });
    expect(await outcomes()).toEqual({ confirmed: 0, rejected: 1, 'timed-out': 0, dropped: 0 });
  });

  it('timed-out: the label receives the command but never answers; an ack from another label for it changes nothing', async () => {
    const silent = await label(gw, 'esl-silent', () => undefined);
    const other = await label(gw, 'esl-other', () => undefined);
    const pending = setPrice('esl-silent', 500);
    // another label claims the command (it may publish only on its own ack topic)
    const cmdId = await eventually(() => silent.received[0]?.cmdId, 2_000, 'the command to reach the label');
    await other.client.publishAsync(ackTopic('esl-other'), JSON.stringify({ cmdId, ok: true, ts: Date.now() }), { qos: 1 });
    const result = await pending;
    expect(result).toMatchObject({ cmdId, deviceId: 'esl-silent', outcome: 'timed-out', detail: 'no ack within 500 ms' });
    expect(result.ack).toBeUndefined();
    expect(await outcomes()).toEqual({ confirmed: 0, rejected: 0, 'timed-out': 1, dropped: 0 });
  });

  it('dropped: the label is not connected (registered or not)', async () => {
    await gw.built.devices.registry.provision('esl-offline', 'esl');
    expect(await setPrice('esl-offline')).toMatchObject({ outcome: 'dropped', detail: 'not-connected' });
    expect(await setPrice('esl-unknown')).toMatchObject({ outcome: 'dropped', detail: 'not-connected' });
    expect(await outcomes()).toEqual({ confirmed: 0, rejected: 0, 'timed-out': 0, dropped: 2 });
  });

  it('dropped: the label disconnects before it acks', async () => {
    const esl = await label(gw, 'esl-leaving', () => undefined);
    const pending = setPrice('esl-leaving', 5_000);
    await eventually(() => esl.received[0], 2_000, 'the command to reach the label');
    await esl.client.endAsync(true);
    expect(await pending).toMatchObject({ outcome: 'dropped', detail: 'not-connected: device disconnected before it acknowledged' });
    expect(await outcomes()).toEqual({ confirmed: 0, rejected: 0, 'timed-out': 0, dropped: 1 });
  });

  it('every outcome is counted once in smartstore_device_commands_total{outcome}', async () => {
    await label(gw, 'esl-a', () => ({ ok: true }));
    await label(gw, 'esl-b', () => ({ ok: false, error: 'busy' }));
    await label(gw, 'esl-c', () => undefined);
    const results = await Promise.all([setPrice('esl-a'), setPrice('esl-b'), setPrice('esl-c', 200), setPrice('esl-d')]);
    expect(results.map((r) => r.outcome)).toEqual(['confirmed', 'rejected', 'timed-out', 'dropped']);
    expect(await outcomes()).toEqual({ confirmed: 1, rejected: 1, 'timed-out': 1, dropped: 1 });
    expect(published.map((r) => r.outcome).sort()).toEqual(['confirmed', 'dropped', 'rejected', 'timed-out']);
    const metrics = await (await gw.api('/metrics')).text();
    expect(metrics).toContain('smartstore_device_commands_total{outcome="timed-out"} 1');
  });
});

describe('commands routed by transport: an OPC UA case and MQTT labels in one gateway', () => {
  let gw: TestGateway | undefined;
  let simulator: OpcuaCaseSimulator | undefined;
  afterEach(async () => {
    await gw?.dispose();
    await simulator?.stop();
    gw = undefined;
    simulator = undefined;
  });

  it("the case's command reaches the OPC UA driver (which takes none), the label's the broker", async () => {
    simulator = new OpcuaCaseSimulator({ port: 0, temperatureC: 3, noiseC: 0.05, updateIntervalMs: 100 });
    await simulator.start();
    const caseDevice = {
      id: 'case-1',
      kind: 'case',
      endpointUrl: simulator.endpointUrl,
      samplingIntervalMs: 100,
      items: [{ field: 'temperatureC', browsePath: CASE_BROWSE_PATHS.temperatureC }],
    };
    const started = await startTestGateway({ overrides: { opcua: { devices: [caseDevice] } } });
    gw = started;
    await eventually(() => (started.built.devices.liveness.isConnected('case-1') ? true : undefined), 10_000, 'the case to connect');
    const esl = await label(started, 'esl-ok', () => ({ ok: true }));

    const toCase = await started.built.devices.commands.send({ deviceId: 'case-1', kind: 'case', type: 'defrost', timeoutMs: 5_000 });
    // the broker would have answered a bare `not-connected`: the case has no MQTT connection
    expect(toCase).toMatchObject({ outcome: 'dropped', detail: 'not-connected: OPC UA devices take no commands' });
    const toLabel = await started.built.devices.commands.send({
      deviceId: 'esl-ok',
      kind: 'esl',
      type: 'set-price',
      params: { sku: '4000000000017', priceCents: 219 },
      timeoutMs: 5_000,
    });
    expect(toLabel).toMatchObject({ outcome: 'confirmed' });
    expect(esl.received.map((command) => command.cmdId)).toEqual([toLabel.cmdId]);
  });
});
