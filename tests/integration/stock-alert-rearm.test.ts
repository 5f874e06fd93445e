/**
 * A low-stock alert staff resolve by hand while the facing is still low stays away — across a restart — until the
 * facing empties or lowStock.rearmAfterMs passes; over real MQTT, HTTP and SQLite.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../edge/alerts/alerts.js';
import { eventually, type TestGateway, type TestGatewayOptions, nextEvent, restartableShelfGateways } from '../helpers/test-gateway.js';

const UNIT_G = 1040; // oat milk, shelf-a facing 1: low at ≤ 2, ok again at ≥ 5
const KEY = 'low-stock:shelf-a/1';

const isShelfA1 = (s: { view: { shelfId: string; facing: number } }) => s.view.shelfId === 'shelf-a' && s.view.facing === 1;

/** Silences on disk (written behind, within storage.flushIntervalMs). */
async function silencedKeys(gw: TestGateway): Promise<string[]> {
  return (await gw.built.storage.db.all<{ key: string }>('SELECT key FROM alert_silences')).map((row) => row.key);
}

async function activeAlerts(gw: TestGateway): Promise<Alert[]> {
  return ((await (await gw.api('/api/alerts')).json()) as { alerts: Alert[] }).alerts;
}

describe('a low-stock alert resolved by hand re-arms', () => {
  const fixture = restartableShelfGateways();
  afterEach(() => fixture.dispose());
  const start = (options?: TestGatewayOptions) => fixture.start(options);
  /** shelf-a facing 1 reports this many units */
  const connectShelf = async (gw: TestGateway, provision: boolean): Promise<(units: number) => Promise<unknown>> => {
    const publish = await fixture.connectShelf(gw, provision, 1);
    return (units) => publish(units * UNIT_G);
  };

  /** shelf-a/1 drained to 2 (low), its alert resolved by staff through the API. */
  async function lowAndResolvedByStaff(gw: TestGateway, publish: (units: number) => Promise<unknown>): Promise<Alert> {
    const opened = nextEvent(gw, 'alert.changed', ({ alert, previous }) => alert.key === KEY && previous === undefined);
    await publish(6);
    await publish(2);
    const { alert } = await opened;
    const response = await gw.api(`/api/alerts/${alert.id}/resolve`, {
      method: 'POST',
      token: await gw.addToken('maria', 'staff'),
      body: JSON.stringify({ note: 'delivery tomorrow' }),
    });
    expect(response.status).toBe(200);
    return (await response.json()) as Alert;
  }

  it('no new alert while silenced, not after a restart either; the facing emptying opens one at once', async () => {
    const gw = await start();
    let publish = await connectShelf(gw, true);
    const resolved = await lowAndResolvedByStaff(gw, publish);
    expect(resolved).toMatchObject({ state: 'resolved', resolvedBy: 'maria' });

    // still low and changing (the level stays low, so no new level signal): the changes arrive, nothing opens
    const atOne = nextEvent(gw, 'stock.changed', (c) => isShelfA1(c) && c.view.units === 1);
    await publish(3);
    await publish(1);
    expect((await atOne).view).toMatchObject({ units: 1, level: 'low' });
    expect(await activeAlerts(gw)).toEqual([]);
    expect(await gw.built.metrics.value('smartstore_alerts_opened_total')).toBe(1);
    await eventually(async () => ((await silencedKeys(gw)).length > 0 ? true : undefined), 2_000, 'the silence on disk');
    expect(await silencedKeys(gw)).toEqual([KEY]);

    await fixture.disconnectShelves();
    await gw.stop();
    const restarted = await start({ dataDir: gw.dataDir });
    publish = await connectShelf(restarted, false);
    // the first readings after the restart: the level is confirmed low after the debounce, and still nothing opens
    const confirmed = nextEvent(restarted, 'stock.level', isShelfA1);
    await publish(2);
    expect(await confirmed).toMatchObject({ level: 'low', units: 2 });
    expect(await activeAlerts(restarted)).toEqual([]);
    expect(await restarted.built.metrics.value('smartstore_alerts_opened_total')).toBe(0);

    // the facing empties: a new alert, out of stock, at once
    await publish(0);
    const [again] = await eventually(
      async () => {
        const alerts = await activeAlerts(restarted);
        return alerts.length ? alerts : undefined;
      },
      5_000,
      'a new alert',
    );
    expect(again).toMatchObject({ key: KEY, state: 'open', severity: 'critical', units: 0 });
    expect(again!.id).not.toBe(resolved.id);
    await eventually(async () => ((await silencedKeys(restarted)).length === 0 ? true : undefined), 2_000, 'the silence gone from disk');
  });

  it('a facing still low opens a new alert once rearmAfterMs has passed', async () => {
    const gw = await start({ overrides: { lowStock: { rearmAfterMs: 1_000 } } });
    const publish = await connectShelf(gw, true);
    const resolved = await lowAndResolvedByStaff(gw, publish);
    expect(await activeAlerts(gw)).toEqual([]);
    // no reading comes any more: it is the periodic check that opens the next one
    const { alert } = await nextEvent(gw, 'alert.changed', ({ alert: a, previous }) => a.key === KEY && previous === undefined, 8_000);
    expect(alert.id).not.toBe(resolved.id);
    expect(alert).toMatchObject({ state: 'open', units: 2 });
    expect(alert.openedAt - resolved.resolvedAt!).toBeGreaterThanOrEqual(1_000);
    expect(await gw.built.metrics.value('smartstore_alerts_opened_total')).toBe(2);
  });

  it('the facing turning ok lifts the silence: the next time it runs low an alert opens', async () => {
    const gw = await start();
    const publish = await connectShelf(gw, true);
    await lowAndResolvedByStaff(gw, publish);
    const ok = nextEvent(gw, 'stock.level', (s) => isShelfA1(s) && s.level === 'ok');
    await publish(8);
    await ok;
    const opened = nextEvent(gw, 'alert.changed', ({ alert, previous }) => alert.key === KEY && previous === undefined);
    await publish(2);
    expect((await opened).alert).toMatchObject({ state: 'open', units: 2 });
  });
});
