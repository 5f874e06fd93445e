/** The events the insight room publishes on the gateway bus (see edge/core/events.ts). */
import type { SkuAvailability } from './availability.js';

declare module '../core/events.js' {
  interface GatewayEvents {
    /** a sku's units for online orders changed (change-only, at most one per sku per insight.availabilityCoalesceSec) */
    'insight.availability': SkuAvailability;
  }
}
