/**
 * Cross-field rules are rules of the config schema (if/then, anyOf), reported by loadConfig (so by `check-config` and
 * `run`) with the option's path, before anything is built: not throws in the constructors that read the option.
 */
import { configNotes, storeTimeZoneOf } from '../../../edge/config/store-time-zone.js';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../edge/config/gateway-config.js';
import { loadConfig } from '../../../edge/config/load-config.js';

async function issuesOf(overrides: unknown): Promise<string[]> {
  const error = await loadConfig({ overrides, env: {} }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ConfigError);
  return (error as ConfigError).issues;
}

const HQ_URL_ISSUE = "/hq/url: must be set: HQ's broker, mqtt:// or mqtts:// when /hq/enabled is true";

describe('hq.enabled needs hq.url', () => {
  it('left out (the default null) or null: one line naming /hq/url and the condition', async () => {
    expect(await issuesOf({ hq: { enabled: true } })).toEqual([HQ_URL_ISSUE]);
    expect(await issuesOf({ hq: { enabled: true, url: null } })).toEqual([HQ_URL_ISSUE]);
  });

  it('reported beside the other problems of the file, each once', async () => {
    const issues = await issuesOf({ hq: { enabled: true, maxInFlight: 0 }, lowStock: { smoothingWindow: 0 } });
    expect(issues).toHaveLength(3);
    expect(issues).toEqual(
      expect.arrayContaining(['/lowStock/smoothingWindow: must be >= 1', '/hq/maxInFlight: must be >= 1', HQ_URL_ISSUE]),
    );
  });

  it('off, or with a url: no rule broken', async () => {
    expect((await loadConfig({ overrides: { hq: { enabled: false } }, env: {} })).hq.url).toBeNull();
    const on = await loadConfig({ overrides: { hq: { enabled: true, url: 'mqtts://hq.example.com:8883' } }, env: {} });
    expect(on.hq).toMatchObject({ enabled: true, url: 'mqtts://hq.example.com:8883' });
  });
});

describe('plain HTTP only on a loopback address (unless TLS or allowPlainHttp)', () => {
  const RULE = 'when /http/tls is null and /http/allowPlainHttp is false';

  it('a non-loopback host without TLS is named with the fixes', async () => {
    for (const host of ['0.0.0.0', '10.20.1.5', 'gateway.store.local', '::', '128.0.0.1']) {
      expect(await issuesOf({ http: { host } }), host).toEqual([
        `/http/host: must be a loopback address (127.0.0.1, ::1, localhost), or set http.tls or http.allowPlainHttp: true ${RULE}`,
      ]);
    }
  });

  it('loopback hosts, TLS or allowPlainHttp: accepted', async () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) {
      expect((await loadConfig({ overrides: { http: { host } }, env: {} })).http.host).toBe(host);
    }
    const tls = { certFile: '/etc/smartstore/gateway.crt', keyFile: '/etc/smartstore/gateway.key' };
    expect((await loadConfig({ overrides: { http: { host: '0.0.0.0', tls } }, env: {} })).http.tls).toEqual(tls);
    expect((await loadConfig({ overrides: { http: { host: '0.0.0.0', allowPlainHttp: true } }, env: {} })).http.host).toBe('0.0.0.0');
  });
});

describe('the MQTT broker has a listener', () => {
  it('plainListener false without mqtt.tls: named, with the condition', async () => {
    expect(await issuesOf({ mqtt: { plainListener: false } })).toEqual([
      '/mqtt/tls: must be set (the MQTTS listener): devices have no other way in when /mqtt/plainListener is false',
    ]);
  });

  it('plainListener false with TLS, or the plain listener alone: accepted', async () => {
    const tls = {
      port: 8883,
      certFile: '/etc/s/broker.crt',
      keyFile: '/etc/s/broker.key',
      clientCaFile: null,
      clientCertificates: 'optional',
    };
    expect((await loadConfig({ overrides: { mqtt: { plainListener: false, tls } }, env: {} })).mqtt.tls).toEqual(tls);
    expect((await loadConfig({ env: {} })).mqtt).toMatchObject({ plainListener: true, tls: null });
  });
});

describe('keyed lists name each key once (a rule of the loader: JSON Schema has no such keyword)', () => {
  const device = (id: string) => ({
    id,
    kind: 'case',
    endpointUrl: 'opc.tcp://127.0.0.1:4841',
    items: [{ field: 'doorOpen', nodeId: 'ns=1;s=d' }],
  });

  it('OPC UA users, OPC UA devices and OpenEPaperLink access points: the second entry is named, with the first', async () => {
    const issues = await issuesOf({
      opcua: {
        server: {
          users: [
            { username: 'hq', passwordEnv: 'A' },
            { username: 'it', passwordEnv: 'B' },
            { username: 'hq', passwordEnv: 'C' },
          ],
        },
        devices: [device('case-1'), device('case-1')],
      },
      labels: {
        accessPoints: [
          { name: 'ap-1', url: 'http://10.0.0.1' },
          { name: 'ap-1', url: 'http://10.0.0.2' },
        ],
      },
    });
    expect(issues).toEqual([
      '/opcua/server/users/2/username: "hq" is listed twice (first at /opcua/server/users/0/username)',
      '/opcua/devices/1/id: "case-1" is listed twice (first at /opcua/devices/0/id)',
      '/labels/accessPoints/1/name: "ap-1" is listed twice (first at /labels/accessPoints/0/name)',
    ]);
  });

  it('distinct keys: accepted', async () => {
    const config = await loadConfig({ overrides: { opcua: { devices: [device('case-1'), device('case-2')] } }, env: {} });
    expect(config.opcua.devices.map((entry) => entry.id)).toEqual(['case-1', 'case-2']);
  });
});

describe('an OPC UA user needs a secret', () => {
  it('a user with neither passwordHash nor passwordEnv is named by its path', async () => {
    const issues = await issuesOf({
      opcua: { server: { users: [{ username: 'hq', passwordEnv: 'HQ_PASSWORD' }, { username: 'nobody' }] } },
    });
    expect(issues).toEqual([
      "/opcua/server/users/1: must have required property 'passwordHash'",
      "/opcua/server/users/1: must have required property 'passwordEnv'",
      '/opcua/server/users/1: must match a schema in anyOf',
    ]);
  });
});

describe("the store's time zone is one this Node.js knows, and said in one place", () => {
  it('a well-formed name no time zone database has is named by its path, in the new place and the old', async () => {
    expect(await issuesOf({ store: { timeZone: 'Europe/Atlantis' } })).toEqual([
      '/store/timeZone: "Europe/Atlantis" is not a time zone this Node.js knows (an IANA name: Europe/Berlin)',
    ]);
    expect(await issuesOf({ insight: { timeZone: 'Europe/Atlantis' } })).toEqual([
      '/insight/timeZone: "Europe/Atlantis" is not a time zone this Node.js knows (an IANA name: Europe/Berlin)',
    ]);
  });

  it('the old place saying another zone than the new one is refused; the same zone in both is accepted', async () => {
    expect(await issuesOf({ store: { timeZone: 'Europe/Berlin' }, insight: { timeZone: 'America/Chicago' } })).toEqual([
      '/insight/timeZone: "America/Chicago" differs from /store/timeZone "Europe/Berlin": ' +
        "remove it (the store's time zone moved to /store/timeZone)",
    ]);
    const same = await loadConfig({ overrides: { store: { timeZone: 'Europe/Berlin' }, insight: { timeZone: 'Europe/Berlin' } }, env: {} });
    expect(storeTimeZoneOf(same)).toBe('Europe/Berlin');
  });

  it('is store.timeZone, else the old insight.timeZone (with a note to move it), else the process’s', async () => {
    const load = (overrides: Record<string, unknown>) => loadConfig({ overrides, env: {} });
    const both = await load({ store: { timeZone: 'Europe/Berlin' } });
    expect([storeTimeZoneOf(both), configNotes(both)]).toEqual(['Europe/Berlin', []]);
    const old = await load({ insight: { timeZone: 'America/Chicago' } });
    expect(storeTimeZoneOf(old)).toBe('America/Chicago');
    expect(configNotes(old)).toEqual([
      "/insight/timeZone: the store's time zone moved to /store/timeZone (read from here meanwhile): move it there",
    ]);
    const none = await load({});
    expect([none.store.timeZone, none.insight.timeZone]).toEqual([null, null]);
    expect(storeTimeZoneOf(none)).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone);
  });
});

describe('store.currency and store.locale exist', () => {
  it('a well-formed currency or locale Intl does not know is named by its path', async () => {
    expect(await issuesOf({ store: { currency: 'XYZ', locale: 'de-DE' } })).toEqual([
      '/store/currency: "XYZ" is not a currency this Node.js knows (ISO 4217: EUR)',
    ]);
  });

  it('defaults to EUR and en; a real currency and locale are accepted', async () => {
    expect((await loadConfig({ overrides: {}, env: {} })).store).toEqual({ currency: 'EUR', locale: 'en', timeZone: null });
    const chosen = await loadConfig({ overrides: { store: { currency: 'CHF', locale: 'fr-CH' } }, env: {} });
    expect(chosen.store).toEqual({ currency: 'CHF', locale: 'fr-CH', timeZone: null });
  });
});
