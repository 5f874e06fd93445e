import type { FastifyPluginAsync } from 'fastify';
import { facingStockSchema } from './stock-schemas.js';
import type { ShelfStockBook } from './shelf-stock-book.js';

export function stockRoutes(deps: { stock: () => ShelfStockBook }): FastifyPluginAsync {
  return async (app) => {
    app.get('/api/shelves', {
      schema: {
        response: {
          200: {
            type: 'object',
            properties: { shelves: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, facings: { type: 'array', items: facingStockSchema } } } } },
          },
        },
      },
      handler: async () => ({ shelves: deps.stock().shelves() }),
    });
  };
}
