import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { DeviceConnection, isSecretRefused, type SecretRenewal } from '../../devices/device-connection.js';
import { TestBroker } from './mqtt-test-broker.js';

const log = pino({ level: 'silent' });

describe('DeviceConnection: a refused secret', () => {
  let broker: TestBroker | undefined;
  const connections: DeviceConnection<'kiosk'>[] = [];
  afterEach(async () => {
    for (const connection of connections.splice(0)) await connection.close();
    await broker?.close();
  });

  function kiosk(secret: string, renewSecret?: SecretRenewal): DeviceConnection<'kiosk'> {
    const connection = new DeviceConnection(
      'kiosk',
      { brokerUrl: broker!.url, storeId: 'store-1', deviceId: 'kiosk-01', secret, ...(renewSecret ? { renewSecret } : {}) },
      log,
    );
    connections.push(connection);
    return connection;
  }

  it('is renewed once through renewSecret, and the device logs in with the new one', async () => {
    broker = await TestBroker.start({ 'kiosk-01': 'rotated-secret' });
    const asked: Array<{ deviceId: string; kind: string }> = [];
    const connection = kiosk('old-secret', async (device) => {
      asked.push(device);
      return 'rotated-secret';
    });
    await connection.open(() => undefined);
    expect(connection.connected).toBe(true);
    expect(asked).toEqual([{ deviceId: 'kiosk-01', kind: 'kiosk' }]);
    expect(broker.rejectedClientIds).toEqual(['kiosk-01']);
  });

  it('stays refused without renewSecret, or when renewal has no secret to give', async () => {
    broker = await TestBroker.start({ 'kiosk-01': 'rotated-secret' });
    const plain = await kiosk('old-secret')
      .open(() => undefined)
      .catch((error: unknown) => error);
    expect(isSecretRefused(plain)).toBe(true);
    const nothing = await kiosk('old-secret', async () => undefined)
      .open(() => undefined)
      .catch((error: unknown) => error);
    expect(isSecretRefused(nothing)).toBe(true);
  });
});
