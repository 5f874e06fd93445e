import { describe, expect, it } from 'vitest';
import { LoginThrottle } from '../../../edge/broker/login-throttle.js';

function throttle(perDevice: number, perAddress: number) {
  const clock = { now: 1_000_000 };
  const t = new LoginThrottle(
    { maxFailuresPerDevicePerMinute: perDevice, maxFailuresPerAddressPerMinute: perAddress, maxTrackedKeys: 100 },
    () => clock.now,
  );
  return { t, clock };
}

describe('LoginThrottle', () => {
  it('counts a device id per address: failures from one address never block the id from another', () => {
    const { t } = throttle(3, 100);
    for (let i = 0; i < 3; i++) t.recordFailure('10.0.0.9', 'shelf-02');
    expect(t.isBlocked('10.0.0.9', 'shelf-02')).toBe(true);
    expect(t.isBlocked('10.0.0.5', 'shelf-02')).toBe(false);
    expect(t.isBlocked('10.0.0.9', 'shelf-03')).toBe(false);
  });

  it('blocks an address guessing over many ids at the per-address limit, for every id', () => {
    const { t } = throttle(10, 4);
    for (const id of ['a', 'b', 'c', 'd']) t.recordFailure('10.0.0.9', id);
    expect(t.isBlocked('10.0.0.9', 'e')).toBe(true);
    expect(t.isBlocked('10.0.0.5', 'a')).toBe(false);
  });

  it('checks in progress count as failures already, and end() gives them back', () => {
    const { t } = throttle(2, 100);
    t.begin('10.0.0.9', 'shelf-02');
    t.begin('10.0.0.9', 'shelf-02');
    expect(t.isBlocked('10.0.0.9', 'shelf-02')).toBe(true);
    t.end('10.0.0.9', 'shelf-02');
    t.end('10.0.0.9', 'shelf-02');
    expect(t.isBlocked('10.0.0.9', 'shelf-02')).toBe(false);
    expect((t as unknown as { checking: Map<string, number> }).checking.size).toBe(0);
  });

  it('many devices of one address logging in at once are not taken for guesses (checks in progress count per id only)', () => {
    const { t } = throttle(2, 4);
    for (let i = 0; i < 200; i++) t.begin('10.0.0.9', `shelf-${i}`);
    expect(t.isBlocked('10.0.0.9', 'shelf-0')).toBe(false);
    expect(t.isBlocked('10.0.0.9', 'shelf-200')).toBe(false);
  });

  it('a success forgets the id at that address, not the address guessing others; failures expire after a minute', () => {
    const { t, clock } = throttle(2, 3);
    t.recordFailure('10.0.0.9', 'a');
    t.recordFailure('10.0.0.9', 'a');
    t.recordFailure('10.0.0.9', 'b');
    t.recordSuccess('10.0.0.9', 'a');
    // a's own failures are gone, but the address is at its limit of 3
    expect(t.isBlocked('10.0.0.9', 'c')).toBe(true);
    clock.now += 60_000;
    expect(t.isBlocked('10.0.0.9', 'c')).toBe(false);
  });
});
