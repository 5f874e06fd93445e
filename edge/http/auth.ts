import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * onRequest hook of every write route (before the body is parsed): `Authorization: Bearer <token>`. Compared as digests in constant time so the
 * comparison leaks neither content nor length. Without a configured token writes are off (403), not open.
 */
/** The onRequest hook every write route uses. */
export type WriteGuard = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

export function requireToken(apiToken: string | null): WriteGuard {
  const expected = apiToken ? digest(apiToken) : undefined;
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!expected) {
      return reply.code(403).send({ statusCode: 403, error: 'Forbidden', message: 'write API disabled: no API token configured (set SMARTSTORE_API_TOKEN)' });
    }
    const header = request.headers.authorization ?? '';
    const match = /^Bearer (.+)$/.exec(header);
    if (!match || !timingSafeEqual(digest(match[1] as string), expected)) {
      return reply.code(401).send({ statusCode: 401, error: 'Unauthorized', message: 'missing or wrong bearer token' });
    }
  };
}
