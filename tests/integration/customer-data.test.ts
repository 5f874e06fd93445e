/**
 * Customer data at the edge (issue 17): a kiosk sends a loyalty id, a card number as payment reference and a card
 * number in free text — valid messages and broken ones. None of it may appear in the SQLite files' bytes (WAL
 * included), the logs, the live stream or what reaches HQ (Mosquitto); the pseudonym does reach HQ, so the data did
 * flow. Grepped as bytes, not parsed.
 */
import { readdir, readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pseudonymizer } from '../../edge/privacy/customer-data.js';
import { hasMosquitto, hqOverrides, hqSubscriber, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { TEST_TOKEN, eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const LOYALTY = 'LOY-778899-PRIVATE';
const CARD = '4111111111111111';
const GROUPED = '4111 1111 1111 1111';
const FORBIDDEN = [LOYALTY, CARD, GROUPED, '411111111111', LOYALTY.slice(0, 10)];

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe.skipIf(!hasMosquitto)('customer data never leaves the kiosk event unprotected', () => {
  let hq: Mosquitto;
  let gw: TestGateway;
  const logLines: string[] = [];
  let stream = '';
  let closeStream = () => undefined as void;
  let atHq: Awaited<ReturnType<typeof hqSubscriber>>;

  beforeAll(async () => {
    hq = await startMosquitto();
    atHq = await hqSubscriber(hq.url, 'hq-it/#');
    gw = await startTestGateway({ logLines, overrides: { hq: hqOverrides(hq.url) } });
    await new Promise<void>((resolve) => {
      const req = request(`${gw.httpUrl}/api/events`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } }, (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (stream += chunk));
        resolve();
      });
      req.end();
      closeStream = () => void req.destroy();
    });
  });
  afterAll(async () => {
    closeStream();
    await atHq?.close();
    await gw?.dispose();
    await hq?.stop();
  });

  it('pseudonymised and masked before storage, logs, the live stream and HQ', async () => {
    const kiosk = await gw.connectDevice('kiosk-1', 'kiosk');
    const topic = 'store/test-store/kiosk/kiosk-1/event';
    const send = (event: Record<string, unknown>) => kiosk.publishAsync(topic, JSON.stringify({ ts: Date.now(), ...event }), { qos: 1 });
    await send({ type: 'basket-open', basketId: 'b-1', loyaltyId: LOYALTY });
    await send({ type: 'item-scanned', basketId: 'b-1', sku: '4000000000017', qty: 1, priceCents: 189, loyaltyId: LOYALTY });
    await send({ type: 'assist-requested', reason: `customer says card ${GROUPED} was charged twice` });
    await send({ type: 'payment-failed', basketId: 'b-1', paymentRef: CARD, reason: `declined ${CARD}` });
    await send({ type: 'payment-succeeded', basketId: 'b-1', paymentRef: 'TX-5512' });
    await send({ type: 'basket-closed', basketId: 'b-1', loyaltyId: LOYALTY });
    // broken messages carrying the same data: refused, logged — without the data
    await kiosk.publishAsync(topic, `{"type":"payment-failed","paymentRef":"${CARD}"`, { qos: 1 });
    // V8's JSON.parse message quotes the first 10 characters: "Unexpected token 'L', "LOY-778899"... is not valid JSON"
    await kiosk.publishAsync(topic, LOYALTY, { qos: 1 });
    await kiosk.publishAsync(
      topic,
      JSON.stringify({ type: 'payment-failed', paymentRef: `${CARD}${'9'.repeat(60)}`, loyaltyId: LOYALTY, ts: Date.now() }),
      { qos: 1 },
    );

    const transaction = await eventually(
      () => atHq.messages.find((m) => m.event.type === 'com.smartstore.store.kiosk.transaction'),
      10_000,
      'the transaction at HQ',
    );
    const kioskEvents = () => atHq.messages.filter((m) => m.event.type === 'com.smartstore.store.kiosk.event').length;
    await eventually(() => (kioskEvents() >= 6 ? true : undefined), 10_000, 'the kiosk events at HQ');
    await eventually(
      () => (logLines.some((line) => line.includes('invalid device message dropped')) ? true : undefined),
      5_000,
      'the refusal logged',
    );
    await eventually(() => (stream.includes('kiosk-assist') ? true : undefined), 5_000, 'the assist alert on the live stream');

    // the data did flow, protected: HQ got the pseudonym and the masked card
    const hqText = atHq.messages.map((m) => JSON.stringify(m.event)).join('\n');
    const key = await readFile(join(gw.dataDir, 'pseudonym.key'));
    expect(hqText).toContain(new Pseudonymizer(key).pseudonym(LOYALTY));
    expect(hqText).toContain('**** 1111');
    expect(transaction.event.data).toMatchObject({ basketId: 'b-1' });

    await gw.stop(); // flushes and closes every file
    const places: Array<[string, string]> = [
      ['logs', logLines.join('')],
      ['live stream', stream],
      ['HQ', hqText],
    ];
    for (const file of await filesUnder(gw.dataDir)) {
      if (file.endsWith('pseudonym.key') || file.endsWith('.yaml')) continue;
      places.push([file, (await readFile(file)).toString('latin1')]);
    }
    expect(places.some(([where]) => where.endsWith('relay-outbox.db'))).toBe(true);
    for (const [where, bytes] of places)
      for (const secret of FORBIDDEN) expect(bytes.includes(secret), `${secret} in ${where}`).toBe(false);
  });
});
