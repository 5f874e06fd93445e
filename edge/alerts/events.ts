/** The events the alerts room publishes on the gateway bus (see edge/core/events.ts). */
import type { AlertChange } from './alerts.js';

declare module '../core/events.js' {
  interface GatewayEvents {
    /** an alert was opened or changed (units, severity, state) */
    'alert.changed': AlertChange;
  }
}
