import type { GatewayConfig } from './config-schema.js';

/**
 * The store's time zone, for every room that names hours or days (insight's hours of day and alert times, KPI days,
 * the staff page via GET /api/store): `store.timeZone`, else `insight.timeZone` (its old place, still read), else the
 * process's (TZ). The config check has made sure a configured name exists.
 */
export function storeTimeZoneOf(config: Pick<GatewayConfig, 'store' | 'insight'>): string {
  return config.store.timeZone ?? config.insight.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/**
 * What a config says the old way and still works: one `path: note` line each. `check-config` prints them, and the
 * gateway logs them (warn) when it is built, so store IT sees them before the old way stops working.
 */
export function configNotes(config: Pick<GatewayConfig, 'store' | 'insight'>): string[] {
  const notes: string[] = [];
  if (config.insight.timeZone !== null && config.store.timeZone === null)
    notes.push(`/insight/timeZone: the store's time zone moved to /store/timeZone (read from here meanwhile): move it there`);
  return notes;
}
