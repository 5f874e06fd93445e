/**
 * The gateway's event bus and its event map. Core knows no feature: each room declares the events it publishes in its
 * own `events.ts`, by augmenting `GatewayEvents` (as a fastify plugin adds its decorators to `FastifyInstance`):
 *
 *     declare module '../core/events.js' {
 *       interface GatewayEvents { 'alert.changed': AlertChange }
 *     }
 *
 * Those files are part of every compilation that sees the bus (tsconfig.json and tsconfig.build.json include all of
 * edge/; tests/unit/architecture checks it), so an event is typed wherever it is published or subscribed to, and a
 * name no room declares does not compile. `grep -r "interface GatewayEvents" edge` lists every event.
 */
import { EventBus } from './event-bus.js';

/**
 * Event name → payload. Empty here on purpose: the rooms fill it in (an interface, because only interfaces merge).
 * A room whose events are a family (a device message per channel) extends it with a mapped type in its augmentation.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in by module augmentation in the rooms
export interface GatewayEvents {}

export class GatewayBus extends EventBus<GatewayEvents> {}
