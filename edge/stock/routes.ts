import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AccessGuard } from '../http/auth.js';
import { errorSchema } from '../http/schemas.js';
import { shelfListSchema } from './stock-schemas.js';
import type { ShelfStockBook } from './shelf-stock-book.js';

export function stockRoutes(deps: { stock: () => ShelfStockBook; guard: AccessGuard }): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/api/shelves', {
      onRequest: deps.guard('viewer'),
      schema: {
        summary: 'Every shelf and the stock of its facings',
        response: { 200: shelfListSchema, 401: errorSchema, 403: errorSchema, 429: errorSchema },
      },
      handler: async () => ({ shelves: deps.stock().shelves() }),
    });
  };
}
