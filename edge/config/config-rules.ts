/**
 * Rules of the gateway config that JSON Schema cannot say, checked by the loader after the schema (so every value,
 * defaults included, is there and typed) and reported in the schema's format, `path: problem`: a list whose entries
 * are told apart by one key names each key once (`uniqueItems` compares whole entries, not one key), and a time zone
 * name exists. Rules JSON Schema
 * can say are if/then or anyOf of the schema itself (relay-config.ts, config-schema.ts, opcua-server-config.ts).
 */
import type { GatewayConfig } from './config-schema.js';

type KeyedList = { path: string; key: string; entries: (config: GatewayConfig) => ReadonlyArray<Record<string, unknown>> };

const KEYED_LISTS: readonly KeyedList[] = [
  // a second entry would be a second login with the same name: which password counts?
  { path: '/opcua/server/users', key: 'username', entries: (config) => config.opcua.server.users },
  // one session per device id: a second entry would drive the same registry device from two endpoints
  { path: '/opcua/devices', key: 'id', entries: (config) => config.opcua.devices },
  // the name is the driver id (`oepl:<name>`) labels, alerts and /api/labels go by
  { path: '/labels/accessPoints', key: 'name', entries: (config) => config.labels.accessPoints },
];

/** Every broken rule, one `path: problem` line each; none for a good config. */
export function configRuleIssues(config: GatewayConfig): string[] {
  const issues: string[] = [];
  for (const list of KEYED_LISTS) {
    const firstAt = new Map<unknown, number>();
    list.entries(config).forEach((entry, index) => {
      const value = entry[list.key];
      const first = firstAt.get(value);
      if (first === undefined) firstAt.set(value, index);
      else
        issues.push(
          `${list.path}/${index}/${list.key}: ${JSON.stringify(value)} is listed twice (first at ${list.path}/${first}/${list.key})`,
        );
    });
  }
  // the schema checks the name's shape; only the runtime's time zone database knows whether it exists
  for (const [path, timeZone] of [
    ['/store/timeZone', config.store.timeZone],
    ['/insight/timeZone', config.insight.timeZone],
  ] as const) {
    if (timeZone !== null && !knownTimeZone(timeZone))
      issues.push(`${path}: ${JSON.stringify(timeZone)} is not a time zone this Node.js knows (an IANA name: Europe/Berlin)`);
  }
  // the old place (insight.timeZone) saying another zone than the new one: which clock is the store's?
  if (config.store.timeZone !== null && config.insight.timeZone !== null && config.store.timeZone !== config.insight.timeZone) {
    issues.push(
      `/insight/timeZone: ${JSON.stringify(config.insight.timeZone)} differs from /store/timeZone ` +
        `${JSON.stringify(config.store.timeZone)}: remove it (the store's time zone moved to /store/timeZone)`,
    );
  }
  // the schema checks the shapes; only the runtime's Intl knows whether the currency and the locale exist
  if (!Intl.supportedValuesOf('currency').includes(config.store.currency)) {
    issues.push(`/store/currency: ${JSON.stringify(config.store.currency)} is not a currency this Node.js knows (ISO 4217: EUR)`);
  }
  if (!knownLocale(config.store.locale)) {
    issues.push(`/store/locale: ${JSON.stringify(config.store.locale)} is not a locale (BCP 47: en, de-DE)`);
  }
  return issues;
}

function knownLocale(locale: string): boolean {
  try {
    return Intl.getCanonicalLocales(locale).length === 1;
  } catch {
    return false;
  }
}

function knownTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone });
    return true;
  } catch {
    return false;
  }
}
