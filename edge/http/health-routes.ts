import type { RouteHook } from './auth.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import type { HealthCheck } from '../core/module.js';
import { errorSchema } from './schemas.js';

/** A module's check: `ok` and whatever details the module adds (core `HealthCheck`), passed through as they are. */
const healthCheckSchema = Type.Unsafe<HealthCheck>(Type.Object({ ok: Type.Boolean() }, { additionalProperties: true }));

export const healthReportSchema = Type.Object({
  /** degraded: a check fails and may recover by itself; error: a check failed critically (`critical: true`), a person must act */
  status: Type.Enum(['ok', 'degraded', 'error'], { type: 'string' }),
  storeId: Type.String(),
  uptimeS: Type.Number(),
  /** by module name */
  checks: Type.Record(Type.String(), healthCheckSchema),
});
export type HealthReport = Static<typeof healthReportSchema>;

/** The health report of the modules' checks: degraded while any check is not ok, error while one fails critically. */
export function healthReport(checks: Record<string, HealthCheck>, store: { storeId: string; uptimeS: number }): HealthReport {
  const failing = Object.values(checks).filter((check) => !check.ok);
  const status = failing.length === 0 ? 'ok' : failing.some((check) => check.critical === true) ? 'error' : 'degraded';
  return { status, ...store, checks };
}

/** `/api/health` (503 while any module reports a problem) and the Prometheus scrape at `/metrics`. */
export function healthRoutes(deps: {
  health: () => HealthReport;
  metrics: { contentType: string; metrics(): Promise<string> };
  /** who may scrape: the metrics token or any API token (the health check stays open for load balancers) */
  scrapeGuard: RouteHook;
}): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/api/health', {
      schema: {
        summary: 'Health of the gateway and each module (503 while one is not ok); open, for load balancers',
        response: { 200: healthReportSchema, 503: healthReportSchema },
      },
      handler: async (_request, reply) => {
        const report = deps.health();
        return reply.code(report.status === 'ok' ? 200 : 503).send(report);
      },
    });

    app.get('/metrics', {
      onRequest: deps.scrapeGuard,
      schema: {
        summary: 'Prometheus metrics',
        response: {
          // text, sent as it is (fastify serializes JSON answers only)
          200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: Type.String() } } },
          401: errorSchema,
          403: errorSchema,
          429: errorSchema,
        },
      },
      handler: async (_request, reply) => {
        reply.type(deps.metrics.contentType);
        return deps.metrics.metrics();
      },
    });
  };
}
