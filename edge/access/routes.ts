import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorSchema } from '../http/schemas.js';
import { principalOf, type AccessGuard } from '../http/auth.js';
import { ROLES } from '../http/roles.js';
import type { StreamTickets } from './stream-tickets.js';
import type { TokenStore } from './token-store.js';

const role = Type.Enum(ROLES);
const principalSchema = Type.Object({ name: Type.String(), role }, { additionalProperties: false });
const ticketSchema = Type.Object({ ticket: Type.String(), expiresAt: Type.Integer() }, { additionalProperties: false });
const tokenListSchema = Type.Object(
  { tokens: Type.Array(Type.Object({ name: Type.String(), role, createdAt: Type.Integer() }, { additionalProperties: false })) },
  { additionalProperties: false },
);
const denied = { 401: errorSchema, 403: errorSchema, 429: errorSchema };

export type AccessRouteDeps = { guard: AccessGuard; tickets: StreamTickets; store: TokenStore };

/** Who am I, a ticket for the live stream, and (admin) which tokens exist — never the tokens themselves. */
export function accessRoutes(deps: AccessRouteDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/api/whoami', {
      onRequest: deps.guard('viewer'),
      schema: { summary: 'The name and role of the token', response: { 200: principalSchema, ...denied } },
      handler: async (request) => principalOf(request),
    });
    app.post('/api/events/ticket', {
      onRequest: deps.guard('viewer'),
      schema: { summary: 'A one-time ticket (30 s) to open the live stream from a browser', response: { 200: ticketSchema, ...denied } },
      handler: async (request) => deps.tickets.issue(principalOf(request)),
    });
    app.get('/api/tokens', {
      onRequest: deps.guard('admin'),
      schema: { summary: 'The named API tokens (never the tokens themselves)', response: { 200: tokenListSchema, ...denied } },
      handler: async () => ({ tokens: (await deps.store.active()).map(({ name, role: r, createdAt }) => ({ name, role: r, createdAt })) }),
    });
  };
}
