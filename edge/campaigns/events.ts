/** The events the price campaigns room publishes on the gateway bus (see edge/core/events.ts). */
import type { CampaignProgress } from './campaign-service.js';

declare module '../core/events.js' {
  interface GatewayEvents {
    /** a price campaign's counts or state changed (throttled to a few a second per campaign; its end at once) */
    'campaign.progress': CampaignProgress;
  }
}
