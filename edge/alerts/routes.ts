import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { WriteGuard } from '../http/auth.js';
import { errorSchema } from '../http/schemas.js';
import { alertIdParams, alertSchema, staffName } from './alert-schemas.js';
import { AlertNotFoundError, type AlertService } from './alert-service.js';
import { ALERT_KINDS, AlertTransitionError, type Alert, type AlertKind } from './alerts.js';

const errors = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema, 409: errorSchema };

export type AlertRouteDeps = { alerts: AlertService; writeGuard: WriteGuard };

export function alertRoutes(deps: AlertRouteDeps): FastifyPluginAsync {
  return async (app) => registerAlertRoutes(app, deps);
}

async function registerAlertRoutes(app: FastifyInstance, deps: AlertRouteDeps): Promise<void> {
  const { writeGuard } = deps;

  app.get<{ Querystring: { state?: string; kind?: AlertKind; limit?: string } }>('/api/alerts', {
    schema: {
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          state: { type: 'string', enum: ['active', 'open', 'acknowledged', 'snoozed', 'resolved', 'all'] },
          kind: { type: 'string', enum: ALERT_KINDS },
          limit: { type: 'string', pattern: '^(?:[1-9][0-9]{0,2}|1000)$' },
        },
      },
      response: { 200: { type: 'object', properties: { alerts: { type: 'array', items: alertSchema } } }, 400: errorSchema },
    },
    handler: async (request) => {
      const { state, kind, limit } = request.query;
      const alerts = await deps.alerts.list({ state: (state ?? 'active') as never, kind, limit: limit ? Number(limit) : 100 });
      return { alerts };
    },
  });

  app.get<{ Params: { id: string } }>('/api/alerts/:id', {
    schema: { params: alertIdParams, response: { 200: alertSchema, 400: errorSchema, 404: errorSchema } },
    handler: async (request, reply) => {
      const alert = await deps.alerts.get(request.params.id);
      if (!alert) return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `alert ${request.params.id} not found` });
      return alert;
    },
  });

  type Transition = { Params: { id: string }; Body: { by: string; minutes?: number; note?: string } };

  const transition = (path: string, body: object, change: (id: string, b: Transition['Body']) => Alert) =>
    app.post<Transition>(`/api/alerts/:id/${path}`, {
      // onRequest: an unauthenticated request is refused before its body is even parsed
      onRequest: writeGuard,
      schema: { params: alertIdParams, body, response: { 200: alertSchema, ...errors } },
      handler: async (request, reply) => {
        try {
          return change(request.params.id, request.body);
        } catch (error) {
          if (error instanceof AlertTransitionError) {
            return reply.code(409).send({ statusCode: 409, error: 'Conflict', message: error.message });
          }
          if (error instanceof AlertNotFoundError) {
            // not active: resolved long ago (409) or never existed (404)
            const stored = await deps.alerts.get(request.params.id);
            if (stored) return reply.code(409).send({ statusCode: 409, error: 'Conflict', message: `alert ${stored.id} is ${stored.state}` });
            return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: error.message });
          }
          throw error;
        }
      },
    });

  const byOnly = { type: 'object', additionalProperties: false, required: ['by'], properties: { by: staffName } };
  transition('ack', byOnly, (id, body) => deps.alerts.acknowledge(id, body.by));
  transition(
    'snooze',
    { type: 'object', additionalProperties: false, required: ['by', 'minutes'], properties: { by: staffName, minutes: { type: 'integer', minimum: 1, maximum: 1440 } } },
    (id, body) => deps.alerts.snooze(id, body.by, body.minutes as number),
  );
  transition(
    'resolve',
    { type: 'object', additionalProperties: false, required: ['by'], properties: { by: staffName, note: { type: 'string', maxLength: 500 } } },
    (id, body) => deps.alerts.resolve(id, body.by, body.note),
  );
}
