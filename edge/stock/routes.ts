import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../http/http-deps.js';
import { facingStockSchema } from '../http/schemas.js';

export async function shelfRoutes(app: FastifyInstance, deps: HttpDeps): Promise<void> {
  app.get('/api/shelves', {
    schema: {
      response: {
        200: {
          type: 'object',
          properties: { shelves: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, facings: { type: 'array', items: facingStockSchema } } } } },
        },
      },
    },
    handler: async () => ({ shelves: deps.stock.shelves() }),
  });
}
