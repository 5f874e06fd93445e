import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import type { AccessGuard } from '../../../edge/http/auth.js';
import { storeInfoRoutes } from '../../../edge/http/store-info-routes.js';

/** stands for the access module's guard: a viewer's token passes, anything else is refused */
const guard: AccessGuard = (need) => async (request, reply) => {
  if (need !== 'viewer' || request.headers.authorization !== 'Bearer viewer-token') {
    await reply.code(401).send({ statusCode: 401, error: 'Unauthorized', message: 'unknown or revoked token' });
  }
};

describe('GET /api/store', () => {
  it("answers a viewer the store's id, currency, locale and time zone, and nobody without a token", async () => {
    const app = Fastify();
    await app.register(storeInfoRoutes({ storeId: 'store-0042', currency: 'CHF', locale: 'de-CH', timeZone: 'Europe/Zurich' }, guard));
    const answer = await app.inject({ method: 'GET', url: '/api/store', headers: { authorization: 'Bearer viewer-token' } });
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toEqual({ storeId: 'store-0042', currency: 'CHF', locale: 'de-CH', timeZone: 'Europe/Zurich' });
    expect((await app.inject({ method: 'GET', url: '/api/store' })).statusCode).toBe(401);
    await app.close();
  });
});
