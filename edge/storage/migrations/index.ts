import * as initial from './001-initial.js';
import * as gatewayMeta from './002-gateway-meta.js';
import * as deviceLivenessAlertRearm from './003-device-liveness-alert-rearm.js';
import * as deviceKindCase from './004-device-kind-case.js';
import * as apiTokens from './005-api-tokens.js';
import * as hqCommands from './006-hq-commands.js';
import * as certificates from './007-certificates.js';
import * as auditLog from './008-audit-log.js';
import * as deviceKindAp from './009-device-kind-ap.js';
import * as labelBindings from './010-label-bindings.js';
import * as campaigns from './011-campaigns.js';
import * as kpis from './012-kpis.js';
import * as labelSightings from './013-label-sightings.js';
import * as planogramLabels from './014-planogram-labels.js';
import * as storeIdentity from './015-store-identity.js';
import * as layoutFacingHistory from './016-layout-facing-history.js';
import * as shelfKpis from './017-shelf-kpis.js';

export type Migration = { version: number; name: string; sql: string };

/** Numbered, append-only: a released migration is never edited, a change is a new number. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, ...initial },
  { version: 2, ...gatewayMeta },
  { version: 3, ...deviceLivenessAlertRearm },
  { version: 4, ...deviceKindCase },
  { version: 5, ...apiTokens },
  { version: 6, ...hqCommands },
  { version: 7, ...certificates },
  { version: 8, ...auditLog },
  { version: 9, ...deviceKindAp },
  { version: 10, ...labelBindings },
  { version: 11, ...campaigns },
  { version: 12, ...kpis },
  { version: 13, ...labelSightings },
  { version: 14, ...planogramLabels },
  { version: 15, ...storeIdentity },
  { version: 16, ...layoutFacingHistory },
  { version: 17, ...shelfKpis },
];
