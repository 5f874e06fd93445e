/**
 * Issue 21 §3: failed MQTT logins are throttled per client address (and per device id only within that address).
 * Someone guessing shelf-02's secret from one address must not lock the real shelf-02 out from another address, nor
 * after a restart. The second address is 127.0.0.2 (Linux routes all of 127.0.0.0/8 to loopback): the guesser's
 * socket is bound to it, the gateway sees it as the peer address.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { connackCode } from './raw-mqtt-client.js';

const SECRET = 'shelf-02-secret-0123456789abcdef';
const MAX_PER_DEVICE = 10;
const MAX_PER_ADDRESS = 20;
const RC_ACCEPTED = 0;
const RC_BAD_CREDENTIALS = 4;
const RC_NOT_AUTHORIZED = 5;

describe('failed MQTT logins are throttled per client address', () => {
  let dataDir: string;
  let gw: TestGateway | undefined;

  const start = async () => {
    gw = await startTestGateway({
      dataDir,
      overrides: { mqtt: { maxAuthFailuresPerMinute: MAX_PER_DEVICE, maxAuthFailuresPerAddressPerMinute: MAX_PER_ADDRESS } },
    });
    return gw;
  };
  const rejected = (reason: string) => gw!.built.metrics.value('smartstore_mqtt_connections_rejected_total', { reason });
  const login = (from: string, deviceId: string, password: string) =>
    connackCode(gw!.built.broker.port, from, { clientId: deviceId, username: deviceId, password });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'smartstore-login-throttle-'));
    await start();
    for (const id of ['shelf-02', 'shelf-03', 'shelf-04', 'shelf-05', 'shelf-06', 'shelf-07'])
      await gw!.built.devices.registry.provision(id, 'shelf', SECRET);
  });
  afterAll(async () => {
    await gw?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('ten wrong secrets for shelf-02 from 127.0.0.2 lock that address out, not the real shelf-02 on 127.0.0.1', async () => {
    const codes: (number | undefined)[] = [];
    for (let i = 0; i < MAX_PER_DEVICE + 3; i++) codes.push(await login('127.0.0.2', 'shelf-02', `guess-${i}`));
    // the first ten guesses have their secret checked; after that the address is refused without a check
    expect(codes).toEqual([
      ...Array<number>(MAX_PER_DEVICE).fill(RC_BAD_CREDENTIALS),
      RC_NOT_AUTHORIZED,
      RC_NOT_AUTHORIZED,
      RC_NOT_AUTHORIZED,
    ]);
    expect(await rejected('bad-secret')).toBe(MAX_PER_DEVICE);
    expect(await rejected('too-many-failures')).toBe(3);
    // from the guesser's address even the right secret is refused now (it was never verified here before)
    expect(await login('127.0.0.2', 'shelf-02', SECRET)).toBe(RC_NOT_AUTHORIZED);

    // the real shelf-02, on its own address, is let in at once
    const startedAt = Date.now();
    expect(await login('127.0.0.1', 'shelf-02', SECRET)).toBe(RC_ACCEPTED);
    expect(Date.now() - startedAt).toBeLessThan(2_000);
    // and the guesser's address may still log in other devices: the lock is per device id within the address
    expect(await login('127.0.0.2', 'shelf-03', SECRET)).toBe(RC_ACCEPTED);
  });

  it('an address guessing across many device ids is stopped at maxAuthFailuresPerAddressPerMinute; other addresses are not', async () => {
    // 4 ids × 5 wrong secrets = 20 failures from 127.0.0.3, each id below its own limit of 10
    for (const id of ['shelf-04', 'shelf-05', 'shelf-06', 'shelf-07']) {
      for (let i = 0; i < 5; i++) expect(await login('127.0.0.3', id, `guess-${i}`)).toBe(RC_BAD_CREDENTIALS);
    }
    const throttledBefore = await rejected('too-many-failures');
    expect(await login('127.0.0.3', 'shelf-03', 'one-more-guess')).toBe(RC_NOT_AUTHORIZED);
    expect((await rejected('too-many-failures')) - throttledBefore).toBe(1);
    // 127.0.0.1's devices are untouched, shelf-04 (guessed at from .3) included
    expect(await login('127.0.0.1', 'shelf-04', SECRET)).toBe(RC_ACCEPTED);
  });

  it('after a restart on the same data dir the real shelf-02 connects, from either address', async () => {
    // one more round of guesses from 127.0.0.2 just before the restart
    for (let i = 0; i < MAX_PER_DEVICE + 1; i++) await login('127.0.0.2', 'shelf-02', `late-guess-${i}`);
    expect(await login('127.0.0.2', 'shelf-02', 'late-guess-x')).toBe(RC_NOT_AUTHORIZED);
    await gw!.stop();
    await start();
    expect(await login('127.0.0.1', 'shelf-02', SECRET)).toBe(RC_ACCEPTED);
    // failures live in memory: a lockout never outlives the process that counted it
    expect(await login('127.0.0.2', 'shelf-02', SECRET)).toBe(RC_ACCEPTED);
  });
});
