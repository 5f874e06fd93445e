import * as initial from './001-initial.js';
import * as gatewayMeta from './002-gateway-meta.js';
import * as deviceLivenessAlertRearm from './003-device-liveness-alert-rearm.js';

export type Migration = { version: number; name: string; sql: string };

/** Numbered, append-only: a released migration is never edited, a change is a new number. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, ...initial },
  { version: 2, ...gatewayMeta },
  { version: 3, ...deviceLivenessAlertRearm },
];
