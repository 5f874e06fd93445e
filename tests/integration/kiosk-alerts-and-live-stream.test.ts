import { afterEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../edge/alerts/alerts.js';
import { openLiveStream as openStream } from '../helpers/live-stream.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

describe('kiosk alerts and the live event stream', () => {
  let gw: TestGateway;
  afterEach(async () => gw?.dispose());

  it('streams a kiosk assist request as one alert, then its acknowledgement', async () => {
    gw = await startTestGateway();
    const stream = openStream(gw.httpUrl);
    await stream.ready;
    const kiosk = await gw.connectDevice('kiosk-1', 'kiosk');
    const topic = 'store/test-store/kiosk/kiosk-1/event';
    // pressed twice: still one active alert for the kiosk
    for (let i = 0; i < 2; i++) {
      await kiosk.publishAsync(topic, JSON.stringify({ type: 'assist-requested', basketId: 'b-1', reason: 'age check', ts: Date.now() }), {
        qos: 1,
      });
    }
    await kiosk.publishAsync(
      topic,
      JSON.stringify({ type: 'weight-mismatch', basketId: 'b-1', expectedWeightG: 500, measuredWeightG: 812, ts: Date.now() }),
      { qos: 1 },
    );

    const alerts = await eventually(() => {
      const list = stream.events.filter((e) => e.event === 'alert').map((e) => e.data as Alert);
      return list.length >= 2 ? list : undefined;
    });
    expect(alerts.map((a) => a.kind).sort()).toEqual(['kiosk-assist', 'kiosk-weight-mismatch']);
    const assist = alerts.find((a) => a.kind === 'kiosk-assist')!;
    expect(assist).toMatchObject({ state: 'open', severity: 'critical', deviceId: 'kiosk-1', key: 'kiosk-assist:kiosk-1' });
    expect(alerts.find((a) => a.kind === 'kiosk-weight-mismatch')).toMatchObject({ severity: 'critical' });
    expect(assist.title).toContain('age check');

    const ack = await gw.api(`/api/alerts/${assist.id}/ack`, {
      method: 'POST',
      token: await gw.addToken('sam', 'staff'),
      body: JSON.stringify({}),
    });
    expect(ack.status).toBe(200);
    await eventually(() => stream.events.find((e) => e.event === 'alert' && (e.data as Alert).state === 'acknowledged'));

    // a device connection shows on the stream too
    expect(stream.events.some((e) => e.event === 'device' && (e.data as { deviceId: string }).deviceId === 'kiosk-1')).toBe(true);
    const list = (await (await gw.api('/api/alerts')).json()) as { alerts: Alert[] };
    expect(list.alerts).toHaveLength(2);
    stream.close();
  });

  it('streams stock changes of a facing, not every reading', async () => {
    gw = await startTestGateway();
    const stream = openStream(gw.httpUrl);
    await stream.ready;
    const shelf = await gw.connectDevice('shelf-b', 'shelf');
    // 105 g chocolate: five readings of the same 12 units (noise of a few grams), then 11
    for (const weightG of [1260, 1262, 1258, 1261, 1259, 1155]) {
      await shelf.publishAsync('store/test-store/shelf/shelf-b/weight', JSON.stringify({ facing: 1, weightG, ts: Date.now() }), { qos: 1 });
    }
    const stock = await eventually(() => {
      const list = stream.events.filter((e) => e.event === 'stock').map((e) => e.data as { units: number });
      return list.some((s) => s.units === 11) ? list : undefined;
    });
    expect(stock.map((s) => s.units)).toEqual([12, 11]);
    stream.close();
  });

  it('a low-stock alert follows the shelf on the stream: one alert event per change, same id, out of stock at 0', async () => {
    gw = await startTestGateway();
    const stream = openStream(gw.httpUrl);
    await stream.ready;
    const shelf = await gw.connectDevice('shelf-a', 'shelf');
    // oat milk (1040 g) on shelf-a/1, low at ≤ 2
    const publishUnits = (units: number) =>
      shelf.publishAsync('store/test-store/shelf/shelf-a/weight', JSON.stringify({ facing: 1, weightG: units * 1040, ts: Date.now() }), {
        qos: 1,
      });
    const alertEvents = () => stream.events.filter((e) => e.event === 'alert').map((e) => e.data as Alert);

    await publishUnits(2);
    const [opened] = await eventually(() => (alertEvents().length > 0 ? alertEvents() : undefined), 5_000, 'the alert to open');
    expect(opened).toMatchObject({
      state: 'open',
      severity: 'warning',
      units: 2,
      title: 'Low stock: Oat milk 1 l (shelf-a facing 1), 2 left',
    });
    // staff snooze it; the facing empties: the alert escalates and wakes up
    const snoozed = await gw.api(`/api/alerts/${opened!.id}/snooze`, { method: 'POST', body: JSON.stringify({ minutes: 30 }) });
    expect(snoozed.status).toBe(200);
    await publishUnits(1);
    await eventually(() => alertEvents().find((a) => a.units === 1));
    await publishUnits(0);
    await eventually(() => alertEvents().find((a) => a.units === 0));

    expect(alertEvents().map((a) => [a.id, a.state, a.severity, a.units, a.title])).toEqual([
      [opened!.id, 'open', 'warning', 2, 'Low stock: Oat milk 1 l (shelf-a facing 1), 2 left'],
      [opened!.id, 'snoozed', 'warning', 2, 'Low stock: Oat milk 1 l (shelf-a facing 1), 2 left'],
      [opened!.id, 'snoozed', 'warning', 1, 'Low stock: Oat milk 1 l (shelf-a facing 1), 1 left'],
      [opened!.id, 'open', 'critical', 0, 'Out of stock: Oat milk 1 l (shelf-a facing 1)'],
    ]);
    const current = (await (await gw.api(`/api/alerts/${opened!.id}`)).json()) as Alert;
    expect(current).toMatchObject({ state: 'open', severity: 'critical', units: 0 });
    expect(current.snoozedUntil).toBeUndefined();
    stream.close();
  });

  it('GET /api/alerts lists a waiting customer first, then out of stock, then low stock, then a load cell to check', async () => {
    gw = await startTestGateway();
    const shelfA = await gw.connectDevice('shelf-a', 'shelf');
    const shelfB = await gw.connectDevice('shelf-b', 'shelf');
    const kiosk = await gw.connectDevice('kiosk-3', 'kiosk');
    const weight = (shelf: typeof shelfA, shelfId: string, facing: number, weightG: number) =>
      shelf.publishAsync(`store/test-store/shelf/${shelfId}/weight`, JSON.stringify({ facing, weightG, ts: Date.now() }), { qos: 1 });
    const active = async () => ((await (await gw.api('/api/alerts')).json()) as { alerts: Alert[] }).alerts;
    const waitForCount = (n: number) => eventually(async () => ((await active()).length === n ? true : undefined), 5_000, `${n} alerts`);

    // opened in the reverse of their urgency, so that age alone would sort them the wrong way
    await weight(shelfA, 'shelf-a', 2, 999_999); // a load cell to check
    await waitForCount(1);
    await weight(shelfB, 'shelf-b', 1, 3 * 105); // dark chocolate: 3 left, low
    await waitForCount(2);
    await weight(shelfA, 'shelf-a', 1, 0); // oat milk: out of stock
    await waitForCount(3);
    await kiosk.publishAsync('store/test-store/kiosk/kiosk-3/event', JSON.stringify({ type: 'assist-requested', ts: Date.now() }), {
      qos: 1,
    });
    await waitForCount(4);

    expect((await active()).map((a) => [a.kind, a.severity])).toEqual([
      ['kiosk-assist', 'critical'],
      ['low-stock', 'critical'],
      ['low-stock', 'warning'],
      ['sensor-fault', 'warning'],
    ]);
  });

  it('snoozed alerts come back when the snooze ends', async () => {
    gw = await startTestGateway();
    const kiosk = await gw.connectDevice('kiosk-2', 'kiosk');
    await kiosk.publishAsync('store/test-store/kiosk/kiosk-2/event', JSON.stringify({ type: 'assist-requested', ts: Date.now() }), {
      qos: 1,
    });
    const alert = await eventually(async () => ((await (await gw.api('/api/alerts')).json()) as { alerts: Alert[] }).alerts[0]);
    const snoozed = await gw.api(`/api/alerts/${alert.id}/snooze`, { method: 'POST', body: JSON.stringify({ minutes: 1 }) });
    expect(snoozed.status).toBe(200);
    expect(((await snoozed.json()) as Alert).state).toBe('snoozed');
    // the service wakes it with its clock; move the alert's deadline instead of waiting a minute
    gw.built.alerts.service.snooze(alert.id, 'sam', 0);
    await eventually(
      async () => {
        const current = (await (await gw.api(`/api/alerts/${alert.id}`)).json()) as Alert;
        return current.state === 'open' ? current : undefined;
      },
      2_000,
      'the alert to wake up',
    );
  });
});
