import { describe, expect, it } from 'vitest';
import { hostAllowed } from '../../../edge/http/host-allow-list.js';

describe('hostAllowed', () => {
  const names = new Set(['gateway.store.local']);
  it.each([
    ['127.0.0.1:8080', true],
    ['192.168.7.20', true],
    ['[::1]:8080', true],
    ['[fe80::1]', true],
    ['localhost:8080', true],
    ['tablet.localhost', true],
    ['gateway.store.local:8080', true],
    ['GATEWAY.Store.Local', true],
    ['attacker.example', false],
    ['attacker.example:8080', false],
    ['gateway.store.local.attacker.example', false],
    ['127.0.0.1.nip.io', false],
    ['::1', false],
    ['[::1', false],
    ['', false],
    [undefined, false],
  ])('%s → %s', (host, allowed) => {
    expect(hostAllowed(host, names)).toBe(allowed);
  });
});
