/**
 * The shelf KPIs on a real gateway (aedes, SQLite, MQTT shelf readings): a facing that empties and is restocked gives
 * a stock-out, a low-stock alert answered on time and less than 100 % availability; one empty when the gateway stops
 * is still a stock-out after the restart (the samples are read back) and ends with the next reading that shows stock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../edge/alerts/alerts.js';
import type { Kpis } from '../../edge/kpis/kpi.js';
import type { ShelfKpis } from '../../edge/kpis/shelf-kpis.js';
import { eventually, restartableShelfGateways, type TestGateway } from '../helpers/test-gateway.js';

const UNIT_G = 1040; // oat milk on shelf-a facing 1: capacity 10, low at <= 2
const gateways = restartableShelfGateways();
afterEach(() => gateways.dispose());

const kpis = async (gw: TestGateway): Promise<Kpis & ShelfKpis> => {
  const response = await gw.api('/api/kpis?days=1');
  expect(response.status).toBe(200);
  return (await response.json()) as Kpis & ShelfKpis;
};
const lowStock = async (gw: TestGateway): Promise<Alert[]> =>
  ((await (await gw.api('/api/alerts?kind=low-stock&state=all')).json()) as { alerts: Alert[] }).alerts;

describe('shelf KPIs on a real gateway', () => {
  it('a stock-out restocked, a low-stock alert answered on time; a stock-out open at a restart goes on and ends after it', async () => {
    const first = await gateways.start();
    const facing1 = await gateways.connectShelf(first, true, 1);
    await facing1(8 * UNIT_G);
    await facing1(0);
    const opened = await eventually(async () => (await lowStock(first)).find((a) => a.state !== 'resolved'), 10_000, 'the low-stock alert');
    await facing1(9 * UNIT_G);
    await eventually(
      async () => (await lowStock(first)).find((a) => a.id === opened.id && a.state === 'resolved'),
      10_000,
      'the restock to resolve it',
    );
    const seen = await eventually(
      async () => {
        const current = await kpis(first);
        return current.stockOuts.restocked === 1 && current.replenishmentAccuracy.alerts === 1 ? current : undefined;
      },
      10_000,
      'the stock-out and the answered alert',
    );
    expect(seen.stockOuts).toMatchObject({ count: 1, restocked: 1, ongoing: 0 });
    expect(seen.stockOuts.meanMs).toBeGreaterThan(0);
    expect(seen.replenishmentAccuracy).toMatchObject({ targetMs: 30 * 60_000, alerts: 1, onTime: 1, percent: 100 });
    // seconds of a test: the minutes round to 0.0, the percent is of the milliseconds
    expect(seen.onShelfAvailability.percent).toBeLessThan(100);

    // empty again when the gateway stops
    await facing1(0);
    await eventually(async () => ((await kpis(first)).stockOuts.ongoing === 1 ? true : undefined), 10_000, 'the second stock-out');
    await first.built.kpis.flushed();
    await gateways.disconnectShelves();
    await first.stop();

    const second = await gateways.start({ dataDir: first.dataDir });
    const after = await kpis(second);
    expect(after.stockOuts).toMatchObject({ count: 2, restocked: 1, ongoing: 1 });
    expect(after.replenishmentAccuracy).toMatchObject({ alerts: 1, onTime: 1 });
    expect(after.onShelfAvailability.percent).toBeLessThan(100);
    const shelfAgain = await gateways.connectShelf(second, false, 1);
    await shelfAgain(6 * UNIT_G);
    const ended = await eventually(
      async () => {
        const current = await kpis(second);
        return current.stockOuts.ongoing === 0 ? current : undefined;
      },
      10_000,
      'the stock-out to end with the reading after the restart',
    );
    expect(ended.stockOuts).toMatchObject({ count: 2, restocked: 2 });
  }, 60_000);
});
