import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { shelfListSchema } from './stock-schemas.js';
import type { ShelfStockBook } from './shelf-stock-book.js';

export function stockRoutes(deps: { stock: () => ShelfStockBook }): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/api/shelves', {
      schema: { response: { 200: shelfListSchema } },
      handler: async () => ({ shelves: deps.stock().shelves() }),
    });
  };
}
