import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';

export const storeInfoSchema = Type.Object({
  storeId: Type.String(),
  /** ISO 4217 (config store.currency): money on the staff page is written in it */
  currency: Type.String(),
  /** BCP 47 (config store.locale): how the staff page writes money, numbers and dates */
  locale: Type.String(),
  /** IANA name: the store's clock (config insight.timeZone, else the gateway process's zone) */
  timeZone: Type.String(),
});
export type StoreInfo = Static<typeof storeInfoSchema>;

/**
 * `GET /api/store`: what the staff page needs to write money and times the store's way. Open like /api/health: the
 * page asks before anyone signs in, and none of it is a secret (the store id is on /api/health already).
 */
export function storeInfoRoutes(info: StoreInfo): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/api/store', {
      schema: {
        summary: "The store's id, currency, locale and time zone (open, like /api/health)",
        response: { 200: storeInfoSchema },
      },
      handler: async () => info,
    });
  };
}
