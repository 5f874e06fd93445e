import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { seededRandom } from '../../devices/random.js';
import { ShelfSimulator, type ShelfSimulatorOptions } from '../../devices/shelf-simulator.js';
import { ManualTimers } from './manual-timers.js';
import { TestBroker, contractProblems, eventually } from './mqtt-test-broker.js';

const logger = pino({ level: 'silent' });
const STORE = 'store-0042';
/** 4 σ of the 2 g noise plus the 3 g drift amplitude */
const TOLERANCE_G = 11;

describe('ShelfSimulator', () => {
  let broker: TestBroker;
  let shelf: ShelfSimulator | undefined;

  beforeEach(async () => {
    broker = await TestBroker.start({ 'shelf-01': 's3cret-shelf' });
  });

  afterEach(async () => {
    await shelf?.stop();
    shelf = undefined;
    await broker.close();
  });

  function makeShelf(overrides: Partial<ShelfSimulatorOptions> = {}): ShelfSimulator {
    shelf = new ShelfSimulator({
      brokerUrl: broker.url,
      storeId: STORE,
      deviceId: 'shelf-01',
      secret: 's3cret-shelf',
      logger,
      random: seededRandom(1),
      reportIntervalMs: 20,
      facings: [
        { facing: 1, unitWeightG: 500, units: 10, capacityUnits: 12, tareG: 0 },
        { facing: 2, unitWeightG: 185, units: 4, capacityUnits: 20, tareG: 35 },
      ],
      ...overrides,
    });
    return shelf;
  }

  /** The first weight of `facing` measured after now (a reading in flight may predate a take). */
  async function nextWeightG(facing: number): Promise<number> {
    const since = Date.now();
    const message = await broker.waitFor(
      (m) => m.key === 'shelf/weight' && m.payload.facing === facing && (m.payload.ts as number) > since,
    );
    return message.payload.weightG as number;
  }

  it('publishes a status at start and a weight per facing every interval, per the contract', async () => {
    const simulator = makeShelf();
    await simulator.start();
    await eventually(() => broker.from('shelf-01', 'shelf/weight').length >= 10, 2_000, '10 weight readings');

    const status = broker.from('shelf-01', 'shelf/status');
    expect(status).toHaveLength(1);
    expect(status[0]?.topic).toBe(`store/${STORE}/shelf/shelf-01/status`);
    const weights = broker.from('shelf-01', 'shelf/weight');
    expect(new Set(weights.map((m) => m.payload.facing))).toEqual(new Set([1, 2]));
    expect(weights.every((m) => m.qos === 0)).toBe(true);
    expect(broker.messages.flatMap(contractProblems)).toEqual([]);
    // gross weight = tare + units × unit weight, within noise and drift
    const facing2 = weights.filter((m) => m.payload.facing === 2).map((m) => m.payload.weightG as number);
    for (const weightG of facing2) expect(Math.abs(weightG - (35 + 4 * 185))).toBeLessThan(TOLERANCE_G);
    // noise is there: readings are not all equal
    expect(new Set(facing2).size).toBeGreaterThan(1);
  });

  it('weight follows take and restock', async () => {
    const simulator = makeShelf();
    await simulator.start();
    expect(Math.abs((await nextWeightG(1)) - 5_000)).toBeLessThan(TOLERANCE_G);

    expect(simulator.take(1, 3)).toBe(3);
    expect(simulator.units(1)).toBe(7);
    expect(Math.abs((await nextWeightG(1)) - 3_500)).toBeLessThan(TOLERANCE_G);

    // a shopper cannot take more than is there
    expect(simulator.take(1, 50)).toBe(7);
    expect(simulator.units(1)).toBe(0);
    expect(Math.abs(await nextWeightG(1))).toBeLessThan(TOLERANCE_G);

    expect(simulator.restock(1)).toBe(12);
    expect(simulator.units(1)).toBe(12);
    expect(Math.abs((await nextWeightG(1)) - 6_000)).toBeLessThan(TOLERANCE_G);
  });

  it('a stuck cell repeats its last report to the digit while units leave; unstuck, it follows the units again', async () => {
    const timers = new ManualTimers();
    const simulator = makeShelf({ timers, clock: timers.clock });
    await simulator.start();
    const reportsOf = (facing: number) =>
      broker
        .from('shelf-01', 'shelf/weight')
        .filter((m) => m.payload.facing === facing)
        .map((m) => ({ ts: m.payload.ts as number, weightG: m.payload.weightG as number }));
    // the report at start, then one at 20 ms: the cell is live
    await timers.advance(20);
    await eventually(() => reportsOf(1).length >= 2, 1_000, 'two live reports');
    const frozenG = (reportsOf(1).at(-1) as { weightG: number }).weightG;
    simulator.setStuck(1, true);
    simulator.take(1, 4);
    for (let i = 0; i < 10; i++) await timers.advance(20);
    const stuckUntil = timers.now;
    await eventually(() => reportsOf(1).some((r) => r.ts === stuckUntil), 1_000, 'the stuck reports');
    const stuck = reportsOf(1).filter((r) => r.ts > stuckUntil - 200);
    expect(stuck).toHaveLength(10);
    expect(stuck.every((r) => r.weightG === frozenG)).toBe(true);
    // the other facing's cell is live: it jitters
    expect(new Set(reportsOf(2).map((r) => r.weightG)).size).toBeGreaterThan(1);
    simulator.setStuck(1, false);
    await timers.advance(20);
    const at = timers.now;
    await eventually(() => reportsOf(1).some((r) => r.ts === at), 1_000, 'a live report');
    expect(Math.abs((reportsOf(1).at(-1) as { weightG: number }).weightG - 3_000)).toBeLessThan(TOLERANCE_G);
  });

  it('connects with client id = username = device id and the secret; a wrong secret is refused', async () => {
    const simulator = makeShelf({ secret: 'wrong' });
    await expect(simulator.start()).rejects.toThrow(/Bad username or password|Not authorized/i);
    expect(broker.rejectedClientIds).toEqual(['shelf-01']);
  });

  it('stop ends the session, leaves no timer behind and publishes nothing afterwards', async () => {
    const timers = new ManualTimers();
    const simulator = makeShelf({ timers, clock: timers.clock });
    await simulator.start();
    await eventually(() => broker.connectedClients === 1);
    await timers.advance(20);
    await eventually(() => broker.from('shelf-01', 'shelf/weight').length >= 2, 1_000, 'a report while running');
    expect(timers.active).toBeGreaterThan(0);
    await simulator.stop();
    // stopping cleared every timer: time moving on can make it publish nothing
    expect(timers.active).toBe(0);
    const count = broker.messages.length;
    await timers.advance(1_000);
    expect(broker.messages.length).toBe(count);
    await eventually(() => broker.connectedClients === 0, 1_000, 'client disconnected');
  });

  it('refuses nonsense facings and quantities', () => {
    expect(() => makeShelf({ facings: [] })).toThrow(/no facings/);
    expect(() => makeShelf({ facings: [{ facing: 65, unitWeightG: 1, units: 0, capacityUnits: 1, tareG: 0 }] })).toThrow(/1\.\.64/);
    const simulator = makeShelf();
    expect(() => simulator.take(1, 0)).toThrow(RangeError);
    expect(() => simulator.units(9)).toThrow(/no facing 9/);
  });
});
