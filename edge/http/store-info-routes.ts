import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import type { AccessGuard } from './auth.js';
import { errorSchema } from './schemas.js';

export const storeInfoSchema = Type.Object({
  storeId: Type.String(),
  /** ISO 4217 (config store.currency): money on the staff page is written in it */
  currency: Type.String(),
  /** BCP 47 (config store.locale): how the staff page writes money, numbers and dates */
  locale: Type.String(),
  /** IANA name: the store's clock (config store.timeZone: storeTimeZoneOf) */
  timeZone: Type.String(),
});
export type StoreInfo = Static<typeof storeInfoSchema>;

/**
 * `GET /api/store`: what the staff page needs to write money and times the store's way — for any token, like every
 * route but /api/health (the page asks once signed in; before that it names the store from /api/health).
 */
export function storeInfoRoutes(info: StoreInfo, guard: AccessGuard): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/api/store', {
      onRequest: guard('viewer'),
      schema: {
        summary: "The store's id, currency, locale and time zone",
        response: { 200: storeInfoSchema, 401: errorSchema, 403: errorSchema, 429: errorSchema },
      },
      handler: async () => info,
    });
  };
}
