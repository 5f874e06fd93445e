/**
 * `GET /api/kpis` (viewer): time-to-replenish, price-update success and price mismatches per day over a window, and
 * the shelf KPIs (shelf-kpi-schemas.ts).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AccessGuard } from '../http/auth.js';
import { errorSchema } from '../http/schemas.js';
import { DAY_MS, type Kpis } from './kpi.js';
import { shelfKpisProperties } from './shelf-kpi-schemas.js';
import type { ShelfKpis } from './shelf-kpis.js';

const nullableInteger = Type.Union([Type.Integer(), Type.Null()]);

export const kpisSchema = Type.Object(
  {
    windowMs: Type.Integer(),
    from: Type.Integer(),
    to: Type.Integer(),
    timeToReplenish: Type.Object(
      { count: Type.Integer(), meanMs: nullableInteger, p90Ms: nullableInteger },
      { additionalProperties: false },
    ),
    priceUpdates: Type.Object(
      { confirmed: Type.Integer(), failed: Type.Integer(), successPercent: Type.Union([Type.Number(), Type.Null()]) },
      { additionalProperties: false },
    ),
    priceMismatchesPerDay: Type.Array(Type.Object({ day: Type.String(), count: Type.Integer() }, { additionalProperties: false })),
    timeToReplenishPerDay: Type.Array(
      Type.Object(
        { day: Type.String(), count: Type.Integer(), meanMs: nullableInteger, p90Ms: nullableInteger },
        { additionalProperties: false },
      ),
    ),
    priceUpdatesPerDay: Type.Array(
      Type.Object(
        {
          day: Type.String(),
          confirmed: Type.Integer(),
          failed: Type.Integer(),
          successPercent: Type.Union([Type.Number(), Type.Null()]),
        },
        { additionalProperties: false },
      ),
    ),
    ...shelfKpisProperties,
  },
  { additionalProperties: false },
);

/** the window in days, 1–365 (a string: the app does not coerce query types); 7 when absent */
const kpisQuery = Type.Object(
  {
    days: Type.Optional(
      Type.String({ pattern: '^(?:[1-9][0-9]?|[12][0-9]{2}|3[0-5][0-9]|36[0-5])$', description: 'a whole number of days from 1 to 365' }),
    ),
  },
  { additionalProperties: false },
);

export function kpiRoutes(deps: { kpis: (windowMs: number) => Kpis & ShelfKpis; guard: AccessGuard }): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/api/kpis', {
      onRequest: deps.guard('viewer'),
      schema: {
        summary: 'Store KPIs over the last days',
        querystring: kpisQuery,
        response: { 200: kpisSchema, 400: errorSchema, 401: errorSchema, 403: errorSchema, 429: errorSchema },
      },
      handler: async (request) => deps.kpis(Number(request.query.days ?? 7) * DAY_MS),
    });
  };
}
