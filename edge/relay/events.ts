/** The events the HQ relay publishes on the gateway bus (see edge/core/events.ts). */
import type { RelayStatus } from './relay-status.js';

declare module '../core/events.js' {
  interface GatewayEvents {
    /** the HQ relay's status changed: link up/down, backlog, drops (at most once a second, at once on a link change) */
    'relay.status': RelayStatus;
  }
}
