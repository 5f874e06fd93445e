import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from './http-deps.js';

const healthSchema = {
  type: 'object',
  properties: {
    status: { type: 'string' },
    storeId: { type: 'string' },
    uptimeS: { type: 'number' },
    checks: {
      type: 'object',
      properties: {
        storage: { type: 'object', properties: { ok: { type: 'boolean' }, error: { type: 'string' }, pendingWrites: { type: 'integer' } } },
        broker: { type: 'object', properties: { ok: { type: 'boolean' }, connectedDevices: { type: 'integer' } } },
      },
    },
  },
} as const;

export async function healthRoutes(app: FastifyInstance, deps: HttpDeps): Promise<void> {
  app.get('/api/health', {
    schema: { response: { 200: healthSchema, 503: healthSchema } },
    handler: async (_request, reply) => {
      const report = deps.health();
      return reply.code(report.status === 'ok' ? 200 : 503).send(report);
    },
  });

  app.get('/metrics', async (_request, reply) => {
    reply.type(deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
}
