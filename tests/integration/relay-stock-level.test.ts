/**
 * HQ's availability view follows the store's: a facing that turns `low` once its level is debounced — with no unit
 * change at that moment — reaches HQ as a `store.stock.changed` with `level: 'low'` (cause 'level'), through Mosquitto.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RelayStatus } from '../../edge/relay/relay-status.js';
import { hasMosquitto, hqOverrides, hqSubscriber, startMosquitto } from '../helpers/mosquitto.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

const relayStatus = async (gw: TestGateway) => (await (await gw.api('/api/relay')).json()) as RelayStatus;
const UNIT_G = 1040; // shelf-a facing 1 (TEST_PLANOGRAM): low at ≤ 2 units, ok again at ≥ 5
type StockData = { shelfId: string; facing: number; units: number | null; level: string; cause: string };

async function facingA1(gw: TestGateway): Promise<{ units: number | null; level: string } | undefined> {
  type Shelves = { shelves: { id: string; facings: { facing: number; units: number | null; level: string }[] }[] };
  const body = (await (await gw.api('/api/shelves')).json()) as Shelves;
  return body.shelves.find((s) => s.id === 'shelf-a')?.facings.find((f) => f.facing === 1);
}

describe.skipIf(!hasMosquitto)('relay: stock levels at HQ', () => {
  it('a facing that turns low without a unit change is relayed; HQ ends with what the store shows', async () => {
    const hq = await startMosquitto();
    cleanups.push(() => hq.stop());
    const sub = await hqSubscriber(hq.url, 'hq-it/test-store/events/store.stock.changed');
    cleanups.push(() => sub.close());
    const gw = await startTestGateway({ overrides: { hq: hqOverrides(hq.url), lowStock: { debounceMs: 300 } } });
    cleanups.push(() => gw.dispose());
    await eventually(async () => ((await relayStatus(gw)).link.up ? true : undefined), 5_000, 'link up');
    const shelf = await gw.connectDevice('shelf-a', 'shelf');
    const publishUnits = (units: number) => {
      const reading = JSON.stringify({ facing: 1, weightG: units * UNIT_G + 3.5, ts: Date.now() });
      return shelf.publishAsync('store/test-store/shelf/shelf-a/weight', reading, { qos: 1 });
    };
    const atHq = () => sub.messages.map((m) => m.event.data as StockData).filter((d) => d.shelfId === 'shelf-a' && d.facing === 1);

    await publishUnits(8);
    // the first level (`unknown` → `ok`) comes alone too, once debounced
    await eventually(() => (atHq().some((d) => d.units === 8 && d.level === 'ok') ? true : undefined), 5_000, '8 units, ok, at HQ');
    await publishUnits(1);
    // the units change at once (level still ok: the low level is debounced), the level follows alone
    await eventually(async () => ((await facingA1(gw))?.level === 'low' ? true : undefined), 5_000, 'the store shows low');
    const low = await eventually(() => atHq().find((d) => d.level === 'low'), 5_000, 'low at HQ');
    expect(low).toMatchObject({ units: 1, level: 'low', cause: 'level' });
    expect(atHq().find((d) => d.units === 1 && d.cause === 'quantity')).toMatchObject({ level: 'ok' });
    const last = atHq().at(-1);
    const store = await facingA1(gw);
    expect({ units: last?.units, level: last?.level }).toEqual({ units: store?.units, level: store?.level });
  }, 20_000);
});
