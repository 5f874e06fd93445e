import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AccessGuard } from '../http/auth.js';
import { errorSchema } from '../http/schemas.js';
import { RelayStatusSchema, type RelayStatus } from './relay-status.js';

/** `GET /api/relay`: the relay's status — a read like the others (viewer or above). */
export function relayRoutes(deps: { status: () => RelayStatus; guard: AccessGuard }): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/api/relay', {
      onRequest: deps.guard('viewer'),
      schema: {
        summary: 'The HQ relay: connection, backlog and drops',
        response: { 200: RelayStatusSchema, 401: errorSchema, 403: errorSchema, 429: errorSchema },
      },
      handler: async () => deps.status(),
    });
  };
}
