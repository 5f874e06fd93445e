import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { storeInfoRoutes } from '../../../edge/http/store-info-routes.js';

describe('GET /api/store', () => {
  it("answers the store's id, currency, locale and time zone without a token", async () => {
    const app = Fastify();
    await app.register(storeInfoRoutes({ storeId: 'store-0042', currency: 'CHF', locale: 'de-CH', timeZone: 'Europe/Zurich' }));
    const answer = await app.inject({ method: 'GET', url: '/api/store' });
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toEqual({ storeId: 'store-0042', currency: 'CHF', locale: 'de-CH', timeZone: 'Europe/Zurich' });
    await app.close();
  });
});
