import type { FastifyReply, FastifyRequest } from 'fastify';
import { roleAllows, type Principal, type Role } from './roles.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** who the request's token stands for; set by the route's access guard (null on open routes) */
    principal: Principal | null;
  }
}

/** What a route's guard asks of a request: the OpenAPI document (openapi-docs.ts) reads it off the route's hook. */
export type RouteAccess = {
  role: Role;
  /** `?ticket=` from POST /api/events/ticket also opens it (EventSource cannot send a header) */
  streamTicket?: boolean;
  /** the metrics token (`http.metricsToken`) also opens it */
  metricsToken?: boolean;
};

/** An onRequest hook: it runs before the body is parsed, so an unauthenticated request costs no parsing. */
export type RouteHook = ((request: FastifyRequest, reply: FastifyReply) => Promise<void>) & { readonly access?: RouteAccess };

/** `guard('staff')`: the hook of a route that needs at least that role. */
export type AccessGuard = (need: Role, options?: { allowStreamTicket?: boolean }) => RouteHook;

/** Failed authentications per client address (edge/access keeps them). */
export type AuthFailures = { blockedFor(address: string): Promise<number>; recordFailure(address: string): Promise<void> };

export type AccessGuardDeps = {
  verify(token: string): Principal | undefined;
  redeemStreamTicket(ticket: string): Principal | undefined;
  failures: AuthFailures;
  onDenied(outcome: 'missing' | 'invalid' | 'forbidden' | 'rate-limited'): void;
};

/**
 * `Authorization: Bearer <token>`. The scheme is case-insensitive (RFC 7235 §2.1, RFC 6750 §2.1: `bearer` and `BEARER`
 * are the same scheme) and one or more spaces separate it from the token; the token itself is printable ASCII.
 */
const BEARER = /^Bearer +([\x21-\x7e]{1,512})$/i;

/** The token of a bearer `Authorization` header, or undefined for another scheme or a malformed one. */
export function bearerToken(header: string | undefined): string | undefined {
  return header === undefined ? undefined : BEARER.exec(header)?.[1];
}

/**
 * 401 without a token or with one the gateway does not know; 403 with a valid token whose role is too low. A valid
 * token is always served: it is checked first (a digest lookup in memory), so failures from its address never lock
 * it out. Only unknown tokens and tickets are counted per client address, and past the limit they get 429 with
 * Retry-After, so guessing stays slow. The principal goes on the request: routes take names from it, never from the
 * body.
 */
export function accessGuard(deps: AccessGuardDeps): AccessGuard {
  return (need, options = {}) => {
    const access: RouteAccess = { role: need, ...(options.allowStreamTicket ? { streamTicket: true } : {}) };
    const hook: RouteHook = async (request, reply) => {
      const ticket = options.allowStreamTicket ? (request.query as { ticket?: unknown } | undefined)?.ticket : undefined;
      const header = request.headers.authorization;
      if (header === undefined && typeof ticket !== 'string') {
        deps.onDenied('missing');
        return reply
          .code(401)
          .header('www-authenticate', 'Bearer')
          .send({ statusCode: 401, error: 'Unauthorized', message: 'this route needs a bearer token (Authorization: Bearer <token>)' });
      }
      const token = bearerToken(header);
      const principal =
        typeof ticket === 'string' && header === undefined ? deps.redeemStreamTicket(ticket) : token ? deps.verify(token) : undefined;
      if (!principal) {
        const retryAfterS = await deps.failures.blockedFor(request.ip);
        if (retryAfterS > 0) {
          deps.onDenied('rate-limited');
          return reply
            .code(429)
            .header('retry-after', String(retryAfterS))
            .send({
              statusCode: 429,
              error: 'Too Many Requests',
              message: `too many failed authentications from ${request.ip}; try again in ${retryAfterS} s`,
            });
        }
        await deps.failures.recordFailure(request.ip);
        deps.onDenied('invalid');
        const what = header === undefined ? 'unknown, used or expired stream ticket' : 'unknown or revoked token';
        return reply
          .code(401)
          .header('www-authenticate', 'Bearer error="invalid_token"')
          .send({ statusCode: 401, error: 'Unauthorized', message: what });
      }
      if (!roleAllows(principal.role, need)) {
        deps.onDenied('forbidden');
        return reply.code(403).send({
          statusCode: 403,
          error: 'Forbidden',
          message: `token "${principal.name}" has role ${principal.role}; this needs ${need}`,
        });
      }
      request.principal = principal;
    };
    return Object.assign(hook, { access });
  };
}

/** The principal of a guarded route (the guard set it; a route without a guard is a wiring error). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error(`route ${request.method} ${request.routeOptions.url ?? request.url} has no access guard`);
  return request.principal;
}
