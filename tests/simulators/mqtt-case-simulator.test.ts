import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MqttCaseSimulator } from '../../devices/mqtt-case-simulator.js';
import { seededRandom } from '../../devices/random.js';
import { ManualTimers } from './manual-timers.js';
import { TestBroker, contractProblems, eventually } from './mqtt-test-broker.js';

const logger = pino({ level: 'silent' });
const STORE = 'store-0042';

describe('MqttCaseSimulator', () => {
  let broker: TestBroker;
  let simulator: MqttCaseSimulator | undefined;
  let timers: ManualTimers;

  beforeEach(async () => {
    broker = await TestBroker.start({ 'case-07': 'case-secret' });
    timers = new ManualTimers();
  });

  afterEach(async () => {
    await simulator?.stop();
    simulator = undefined;
    await broker.close();
  });

  async function startCase(): Promise<MqttCaseSimulator> {
    simulator = new MqttCaseSimulator({
      brokerUrl: broker.url,
      storeId: STORE,
      deviceId: 'case-07',
      secret: 'case-secret',
      logger,
      random: seededRandom(7),
      clock: timers.clock,
      timers,
      temperatureC: 3.5,
      reportIntervalMs: 2_000,
    });
    await simulator.start();
    return simulator;
  }

  const telemetry = () => broker.from('case-07', 'case/telemetry');

  it('reports temperature and door at start and every interval on case/<id>/telemetry, per the contract', async () => {
    await startCase();
    await eventually(() => telemetry().length === 1, 2_000, 'the first report');
    await timers.advance(4_000);
    await eventually(() => telemetry().length === 3, 2_000, 'two more reports');

    expect(telemetry()[0]?.topic).toBe(`store/${STORE}/case/case-07/telemetry`);
    expect(broker.messages.flatMap(contractProblems)).toEqual([]);
    for (const message of telemetry()) {
      expect(message.qos).toBe(0);
      expect(message.payload.doorOpen).toBe(false);
      expect(Math.abs((message.payload.temperatureC as number) - 3.5)).toBeLessThan(0.5);
    }
  });

  it('sends a door change at once with QoS 1, and a new temperature with the next report', async () => {
    const simulator = await startCase();
    await eventually(() => telemetry().length === 1, 2_000, 'the first report');

    simulator.openDoor();
    await eventually(() => telemetry().length === 2, 2_000, 'the door report');
    expect(telemetry()[1]).toMatchObject({ qos: 1, payload: { doorOpen: true } });

    simulator.setTemperature(9);
    await timers.advance(2_000);
    await eventually(() => telemetry().length === 3, 2_000, 'the next report');
    expect(Math.abs((telemetry()[2]?.payload.temperatureC as number) - 9)).toBeLessThan(0.5);

    simulator.closeDoor();
    await eventually(() => telemetry().length === 4, 2_000, 'the closing');
    expect(telemetry()[3]).toMatchObject({ qos: 1, payload: { doorOpen: false } });
    expect(broker.messages.flatMap(contractProblems)).toEqual([]);
  });
});
