import type { FastifyPluginAsync } from 'fastify';
import type { HealthCheck } from '../core/module.js';

export type HealthReport = {
  status: 'ok' | 'degraded';
  storeId: string;
  uptimeS: number;
  checks: Record<string, HealthCheck>;
};

const healthSchema = {
  type: 'object',
  properties: {
    status: { type: 'string' },
    storeId: { type: 'string' },
    uptimeS: { type: 'number' },
    checks: { type: 'object', additionalProperties: { type: 'object', additionalProperties: true, properties: { ok: { type: 'boolean' } } } },
  },
} as const;

/** `/api/health` (503 while any module reports a problem) and the Prometheus scrape at `/metrics`. */
export function healthRoutes(deps: { health: () => HealthReport; metrics: { contentType: string; metrics(): Promise<string> } }): FastifyPluginAsync {
  return async (app) => {
    app.get('/api/health', {
      schema: { response: { 200: healthSchema, 503: healthSchema } },
      handler: async (_request, reply) => {
        const report = deps.health();
        return reply.code(report.status === 'ok' ? 200 : 503).send(report);
      },
    });

    app.get('/metrics', async (_request, reply) => {
      reply.type(deps.metrics.contentType);
      return deps.metrics.metrics();
    });
  };
}
