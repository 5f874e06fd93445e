/**
 * Impossible load cell readings over real MQTT: not counted as stock, counted as a metric, and a sensor-fault alert
 * that resolves by itself when plausible readings return — also when the fault began before a restart.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../edge/alerts/alerts.js';
import { eventually, type TestGateway, type TestGatewayOptions, nextEvent, restartableShelfGateways } from '../helpers/test-gateway.js';

// espresso beans (520 g) on shelf-a facing 2, capacity 8, tare 0: plausible up to 8 × 520 × 1.5 = 6,240 g
const UNIT_G = 520;
const KEY = 'sensor-fault:shelf-a/2';
const IMPLAUSIBLE = 'smartstore_sensor_implausible_readings_total';

async function facingA2(gw: TestGateway): Promise<{ units: number | null; level: string }> {
  const body = (await (await gw.api('/api/shelves')).json()) as {
    shelves: { id: string; facings: { facing: number; units: number | null; level: string }[] }[];
  };
  return body.shelves.find((s) => s.id === 'shelf-a')!.facings.find((f) => f.facing === 2)!;
}

const alertsOfKey = async (gw: TestGateway): Promise<Alert[]> =>
  ((await (await gw.api('/api/alerts?state=all&kind=sensor-fault')).json()) as { alerts: Alert[] }).alerts.filter((a) => a.key === KEY);

/** Publishes `weightG` every 100 ms, as a shelf reports, until `done` settles (at most 5 s). */
async function publishUntil(publish: (weightG: number) => Promise<unknown>, weightG: number, done: Promise<unknown>): Promise<void> {
  let settled = false;
  void done.finally(() => (settled = true));
  for (let i = 0; i < 50 && !settled; i++) {
    await publish(weightG);
    await Promise.race([done, new Promise((r) => setTimeout(r, 100))]).catch(() => undefined);
  }
}

describe('impossible load cell readings are sensor faults', () => {
  const fixture = restartableShelfGateways();
  afterEach(() => fixture.dispose());
  const start = (options?: TestGatewayOptions) => fixture.start(options);
  const connectShelf = (gw: TestGateway, provision: boolean) => fixture.connectShelf(gw, provision, 2);

  it('999,999 g does not become units: counted, one alert to check the load cell, resolved by plausible readings', async () => {
    const gw = await start();
    const publish = await connectShelf(gw, true);
    const atSix = nextEvent(gw, 'stock.changed', (c) => c.view.shelfId === 'shelf-a' && c.view.facing === 2 && c.view.units === 6);
    await publish(6 * UNIT_G);
    await atSix;

    const faulty = nextEvent(gw, 'stock.sensor-fault', (f) => f.shelfId === 'shelf-a' && f.facing === 2);
    for (const weightG of [999_999, 999_999, -51]) await publish(weightG);
    expect(await faulty).toMatchObject({ faulty: true, weightG: 999_999 });
    await eventually(
      async () => ((await gw.built.metrics.value(IMPLAUSIBLE)) === 3 ? true : undefined),
      5_000,
      'three implausible readings counted',
    );

    const [alert] = await alertsOfKey(gw);
    expect(alert).toMatchObject({
      kind: 'sensor-fault',
      state: 'open',
      severity: 'warning',
      title: 'Check the load cell on shelf-a facing 2',
      shelfId: 'shelf-a',
      facing: 2,
    });
    expect(await alertsOfKey(gw)).toHaveLength(1);
    expect(await facingA2(gw)).toMatchObject({ units: 6 }); // not 1,923 units
    const metrics = await (await gw.api('/metrics')).text();
    expect(metrics).toMatch(/^smartstore_sensor_implausible_readings_total 3$/m);

    const resolved = nextEvent(gw, 'alert.changed', ({ alert: a }) => a.key === KEY && a.state === 'resolved');
    const atFive = nextEvent(gw, 'stock.changed', (c) => c.view.shelfId === 'shelf-a' && c.view.facing === 2 && c.view.units === 5);
    // the fault ends once plausible readings have held for lowStock.debounceMs (200 ms here): a shelf reports on
    await publishUntil(publish, 5 * UNIT_G, resolved);
    expect((await resolved).alert).toMatchObject({ id: alert!.id, resolvedBy: 'system', resolution: 'plausible readings again' });
    await atFive;
    expect(await gw.built.metrics.value(IMPLAUSIBLE)).toBe(3);
  });

  it('a cell flipping between good and bad readings keeps one alert open', async () => {
    const gw = await start();
    const publish = await connectShelf(gw, true);
    const opened = nextEvent(gw, 'alert.changed', ({ alert }) => alert.key === KEY);
    await publish(999_999);
    await opened;
    // good, bad, good, bad … each good reading comes sooner than the 200 ms plausible readings must hold
    for (let i = 0; i < 6; i++) {
      await publish(i % 2 === 0 ? 5 * UNIT_G : 999_999);
      await new Promise((r) => setTimeout(r, 50));
    }
    await eventually(
      async () => ((await gw.built.metrics.value(IMPLAUSIBLE)) === 4 ? true : undefined),
      5_000,
      'four implausible readings counted',
    );
    expect(await alertsOfKey(gw)).toEqual([expect.objectContaining({ state: 'open' })]);
  });

  it('a fault from before a restart resolves once plausible readings come after it', async () => {
    const gw = await start();
    let publish = await connectShelf(gw, true);
    const opened = nextEvent(gw, 'alert.changed', ({ alert }) => alert.key === KEY);
    await publish(999_999);
    const { alert } = await opened;
    await fixture.disconnectShelves();
    await gw.stop();

    const restarted = await start({ dataDir: gw.dataDir });
    expect(await alertsOfKey(restarted)).toEqual([expect.objectContaining({ id: alert.id, state: 'open' })]);
    publish = await connectShelf(restarted, false);
    // the cell was repaired while the gateway was down: its first reading after the restart ends the fault
    const resolved = nextEvent(restarted, 'alert.changed', ({ alert: a }) => a.key === KEY && a.state === 'resolved');
    await publishUntil(publish, 4 * UNIT_G, resolved);
    expect((await resolved).alert).toMatchObject({ id: alert.id, resolvedBy: 'system', resolution: 'plausible readings again' });
    expect(await restarted.built.metrics.value(IMPLAUSIBLE)).toBe(0);
  });
});
