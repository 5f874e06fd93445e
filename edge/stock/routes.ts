import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { DEVICE_ID_PATTERN } from '../device-registry/topics.js';
import type { AccessGuard } from '../http/auth.js';
import { errorSchema } from '../http/schemas.js';
import type { PlanogramIndex } from '../planogram/planogram.js';
import { chartPoints } from './facing-history.js';
import type { HistoryWindow } from './facing-history-store.js';
import { facingHistorySchema, shelfListSchema } from './stock-schemas.js';
import type { ShelfStockBook } from './shelf-stock-book.js';

/** A facing's stored units over a window (the facing history store). */
export type FacingHistoryReader = { window(shelfId: string, facing: number, from: number, to: number): Promise<HistoryWindow> };

const HOUR_MS = 3_600_000;
const DEFAULT_HISTORY_HOURS = 24;

const historyParams = Type.Object(
  {
    shelfId: Type.String({ pattern: DEVICE_ID_PATTERN, description: 'a shelf id: letters, digits and . _ - only, at most 64 characters' }),
    facing: Type.String({ pattern: '^[1-9][0-9]?$', description: 'a facing number from 1 to 99' }),
  },
  { additionalProperties: false },
);
/** hours back from now, 1–336 (a string: the app does not coerce query types); 24 when absent */
const historyQuery = Type.Object(
  {
    hours: Type.Optional(
      Type.String({ pattern: '^(?:[1-9][0-9]?|[12][0-9]{2}|3[0-2][0-9]|33[0-6])$', description: 'a whole number of hours from 1 to 336' }),
    ),
  },
  { additionalProperties: false },
);

export function stockRoutes(deps: {
  stock: () => ShelfStockBook;
  planogram: () => PlanogramIndex;
  history: FacingHistoryReader;
  guard: AccessGuard;
  now: () => number;
}): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/api/shelves', {
      onRequest: deps.guard('viewer'),
      schema: {
        summary: 'Every shelf and the stock of its facings',
        response: { 200: shelfListSchema, 401: errorSchema, 403: errorSchema, 429: errorSchema },
      },
      handler: async () => {
        const planogram = deps.planogram();
        const shelves = deps.stock().shelves();
        const layout = planogram.planogram.layout;
        if (!layout) return { shelves };
        return {
          shelves: shelves.map((shelf) => {
            const place = planogram.placeOf(shelf.id);
            return place ? { ...shelf, place: { aisle: place.aisle, side: place.side, order: place.order } } : shelf;
          }),
          aisles: layout.aisles,
        };
      },
    });
    app.get('/api/facings/:shelfId/:facing/history', {
      onRequest: deps.guard('viewer'),
      schema: {
        summary: "A facing's units over the last hours (at most 500 points)",
        params: historyParams,
        querystring: historyQuery,
        response: { 200: facingHistorySchema, 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema, 429: errorSchema },
      },
      handler: async (request, reply) => {
        const { shelfId } = request.params;
        const facing = Number(request.params.facing);
        const view = deps.stock().get(shelfId, facing);
        if (!view) {
          const message = `facing ${facing} of ${shelfId} is not in the planogram`;
          return reply.code(404).send({ statusCode: 404, error: 'Not Found', message });
        }
        const hours = Number(request.query.hours ?? DEFAULT_HISTORY_HOURS);
        const to = deps.now();
        const from = to - hours * HOUR_MS;
        const window = await deps.history.window(shelfId, facing, from, to);
        return {
          shelfId,
          facing,
          sku: view.sku,
          name: view.name,
          capacityUnits: view.capacityUnits,
          lowStockUnits: view.lowStockUnits,
          units: view.units,
          from,
          to,
          points: chartPoints(window.before, window.points, { from, to }),
        };
      },
    });
  };
}
