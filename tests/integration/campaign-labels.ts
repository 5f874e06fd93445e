/** Direct MQTT labels for campaign integration tests: each answers `set-price` with an ack, or refuses it. */
import type { MqttClient } from 'mqtt';
import { TEST_PLANOGRAM, startTestGateway, type TestGateway, type TestGatewayOptions } from '../helpers/test-gateway.js';

/** The test planogram with labels: milk on esl-m1 and esl-m2, beans on esl-b1, chocolate on esl-c1. */
export const CAMPAIGN_PLANOGRAM = {
  ...TEST_PLANOGRAM,
  labels: [
    { label: 'esl-m1', shelfId: 'shelf-a', facing: 1 },
    { label: 'esl-m2', shelfId: 'shelf-a', facing: 1 },
    { label: 'esl-b1', shelfId: 'shelf-a', facing: 2 },
    { label: 'esl-c1', shelfId: 'shelf-b', facing: 1 },
  ],
};

/**
 * A gateway with CAMPAIGN_PLANOGRAM's labels, whose commands time out after 2 s (a label that does not answer fails
 * within a test's patience); `overrides` add to that.
 */
export function startCampaignGateway(options: Omit<TestGatewayOptions, 'planogram'> = {}): Promise<TestGateway> {
  return startTestGateway({
    ...options,
    planogram: CAMPAIGN_PLANOGRAM,
    overrides: { commands: { ackTimeoutMs: 2_000 }, ...options.overrides },
  });
}

export type FakeLabel = { id: string; client: MqttClient; commands: { sku: string; priceCents: number }[] };

/** Connects the labels; `refuse` lists the ones that answer every set-price with ok: false. */
export async function connectLabels(
  tg: TestGateway,
  refuse: readonly string[] = [],
  ids: readonly string[] = ['esl-m1', 'esl-m2', 'esl-b1', 'esl-c1'],
): Promise<FakeLabel[]> {
  const labels: FakeLabel[] = [];
  for (const id of ids) {
    const client = await tg.connectDevice(id, 'esl');
    const label: FakeLabel = { id, client, commands: [] };
    await client.subscribeAsync(`store/test-store/esl/${id}/cmd`, { qos: 1 });
    client.on('message', (_topic, payload) => {
      const command = JSON.parse(payload.toString()) as { cmdId: string; type: string; sku: string; priceCents: number };
      if (command.type !== 'set-price') return;
      label.commands.push({ sku: command.sku, priceCents: command.priceCents });
      const ack = refuse.includes(id)
        ? { cmdId: command.cmdId, ok: false, error: 'display broken', ts: Date.now() }
        : { cmdId: command.cmdId, ok: true, displayedPriceCents: command.priceCents, ts: Date.now() };
      client.publish(`store/test-store/esl/${id}/ack`, JSON.stringify(ack), { qos: 1 });
    });
    labels.push(label);
  }
  return labels;
}

export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
