import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Static, TObject } from 'typebox';
import { principalOf, type AccessGuard } from '../http/auth.js';
import { errorSchema } from '../http/schemas.js';
import { acknowledgeBody, alertIdParams, alertListQuery, alertListSchema, alertSchema, resolveBody, snoozeBody } from './alert-schemas.js';
import { AlertNotFoundError, type AlertService } from './alert-service.js';
import { AlertTransitionError, type Alert } from './alerts.js';

const denied = { 401: errorSchema, 403: errorSchema, 429: errorSchema };
const errors = { 400: errorSchema, 404: errorSchema, 409: errorSchema, ...denied };

export type AlertRouteDeps = {
  alerts: AlertService;
  guard: AccessGuard;
  /** resolves once every change made so far (the alert and its audit entry) is committed: a 200 is a promise */
  durable: () => Promise<void>;
};

type ErrorAnswer = Static<typeof errorSchema> & { statusCode: 404 | 409 };

/** Applies a lifecycle change; a change the alert's state forbids (409) or an unknown alert (404) becomes the answer. */
async function transition(deps: AlertRouteDeps, id: string, change: (id: string) => Alert): Promise<Alert | ErrorAnswer> {
  const { alerts } = deps;
  try {
    const changed = change(id);
    await deps.durable();
    return changed;
  } catch (error) {
    if (error instanceof AlertTransitionError) return { statusCode: 409, error: 'Conflict', message: error.message };
    if (error instanceof AlertNotFoundError) {
      // not active: resolved long ago (409) or never existed (404)
      const stored = await alerts.get(id);
      if (stored) return { statusCode: 409, error: 'Conflict', message: `alert ${stored.id} is ${stored.state}` };
      return { statusCode: 404, error: 'Not Found', message: error.message };
    }
    throw error;
  }
}

/** The alert API; request and reply types come from the schemas in alert-schemas.ts through the TypeBox provider. */
export function alertRoutes(deps: AlertRouteDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/api/alerts', {
      onRequest: deps.guard('viewer'),
      schema: {
        summary: 'Alerts by state and kind, the active ones most urgent first',
        querystring: alertListQuery,
        response: { 200: alertListSchema, 400: errorSchema, ...denied },
      },
      handler: async (request) => {
        const { state, kind, limit } = request.query;
        return { alerts: await deps.alerts.list({ state: state ?? 'active', kind, limit: limit ? Number(limit) : 100 }) };
      },
    });

    app.get('/api/alerts/:id', {
      onRequest: deps.guard('viewer'),
      schema: {
        summary: 'One alert',
        params: alertIdParams,
        response: { 200: alertSchema, 400: errorSchema, 404: errorSchema, ...denied },
      },
      handler: async (request, reply) => {
        const alert = await deps.alerts.get(request.params.id);
        if (!alert) return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `alert ${request.params.id} not found` });
        return alert;
      },
    });

    const transitionSchema = <Body extends TObject>(body: Body) => ({
      params: alertIdParams,
      body,
      response: { 200: alertSchema, ...errors },
    });
    // onRequest: an unauthenticated request is refused before its body is even parsed. Who did it is the token's
    // name, never something the body says.
    const onRequest = deps.guard('staff');

    app.post('/api/alerts/:id/ack', {
      onRequest,
      schema: { summary: 'Acknowledge an alert', ...transitionSchema(acknowledgeBody) },
      handler: async (request, reply) => {
        const outcome = await transition(deps, request.params.id, (id) => deps.alerts.acknowledge(id, principalOf(request).name));
        return 'statusCode' in outcome ? reply.code(outcome.statusCode).send(outcome) : outcome;
      },
    });
    app.post('/api/alerts/:id/snooze', {
      onRequest,
      schema: { summary: 'Snooze an alert for some minutes', ...transitionSchema(snoozeBody) },
      handler: async (request, reply) => {
        const outcome = await transition(deps, request.params.id, (id) =>
          deps.alerts.snooze(id, principalOf(request).name, request.body.minutes),
        );
        return 'statusCode' in outcome ? reply.code(outcome.statusCode).send(outcome) : outcome;
      },
    });
    app.post('/api/alerts/:id/resolve', {
      onRequest,
      schema: { summary: 'Resolve an alert, with an optional note', ...transitionSchema(resolveBody) },
      handler: async (request, reply) => {
        const outcome = await transition(deps, request.params.id, (id) =>
          deps.alerts.resolve(id, principalOf(request).name, request.body.note),
        );
        return 'statusCode' in outcome ? reply.code(outcome.statusCode).send(outcome) : outcome;
      },
    });
  };
}
