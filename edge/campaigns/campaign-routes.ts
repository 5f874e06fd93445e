/**
 * The campaign API: create (JSON, or a CSV upload with `Content-Type: text/csv`), list, show, cancel, roll back.
 * Managers only; who did it is the token's name. Bad input is answered with EVERY problem (CSV: with its line).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { principalOf, type AccessGuard } from '../http/auth.js';
import { errorSchema } from '../http/schemas.js';
import { CampaignError, type CampaignErrorCode } from './campaign.js';
import { parseCampaignCsv, type CampaignCsvLimits } from './campaign-csv.js';
import {
  campaignIdParams,
  campaignInputOf,
  campaignListSchema,
  campaignProblemsSchema,
  campaignViewSchema,
  cancelCampaignBody,
  createCampaignBody,
  rollbackCampaignBody,
  type CreateCampaignBody,
} from './campaign-schemas.js';
import type { CampaignService } from './campaign-service.js';

export type CampaignRouteDeps = { campaigns: CampaignService; guard: AccessGuard; csvLimits?: CampaignCsvLimits };

const denied = { 401: errorSchema, 403: errorSchema, 429: errorSchema };
const STATUS_OF: Record<CampaignErrorCode, 400 | 404 | 409> = {
  'invalid-campaign': 400,
  'too-many-labels': 400,
  'duplicate-id': 409,
  'too-many-active': 409,
  'unknown-campaign': 404,
  'not-active': 409,
};
const ERROR_NAME = { 400: 'Bad Request', 404: 'Not Found', 409: 'Conflict' } as const;

/** A CampaignError as the answer; anything else is the server's error. */
function campaignErrorAnswer(error: unknown): { statusCode: 400 | 404 | 409; error: string; message: string } {
  if (!(error instanceof CampaignError)) throw error;
  const statusCode = STATUS_OF[error.code];
  return { statusCode, error: ERROR_NAME[statusCode], message: error.message };
}

/** JSON bodies and CSV uploads share the route: each content type has its own body schema. */
const csvBody = { schema: Type.String({ minLength: 1 }) };
const createBody = { content: { 'application/json': { schema: createCampaignBody }, 'text/csv': csvBody, 'application/csv': csvBody } };

export function campaignRoutes(deps: CampaignRouteDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    // scoped to this plugin: only the campaign routes take CSV; the body limit is the app's
    app.addContentTypeParser(['text/csv', 'application/csv'], { parseAs: 'string' }, (_request, body, done) => done(null, body));
    const onRequest = deps.guard('manager');
    // cancel and rollback take an optional body: none is the same as {}, so a bare POST works and the schema still holds
    const emptyBodyIsObject = async (request: { body: unknown }) => {
      request.body ??= {};
    };

    app.post('/api/campaigns', {
      onRequest,
      schema: {
        body: createBody,
        response: {
          201: Type.Union([campaignViewSchema, campaignListSchema]),
          400: Type.Union([campaignProblemsSchema, errorSchema]),
          409: errorSchema,
          415: errorSchema,
          ...denied,
        },
      },
      handler: async (request, reply) => {
        const createdBy = principalOf(request).name;
        const body = request.body as CreateCampaignBody | string;
        if (typeof body === 'string') {
          const parsed = parseCampaignCsv(body, deps.csvLimits);
          if (!parsed.ok) {
            return reply
              .code(400)
              .send({
                statusCode: 400,
                error: 'Bad Request',
                message: `${parsed.problems.length} bad rows in the CSV`,
                problems: parsed.problems,
              });
          }
          // one campaign per effectiveAt in the file; all are checked by the machine before any is created would need a
          // dry run — a refusal of a later batch names it, and the earlier ones stand (they are listed in the answer)
          const created = [];
          try {
            for (const batch of parsed.batches) {
              created.push(
                deps.campaigns.create({
                  prices: batch.prices,
                  createdBy,
                  ...(batch.effectiveAt === undefined ? {} : { effectiveAt: batch.effectiveAt }),
                }),
              );
            }
          } catch (error) {
            const answer = campaignErrorAnswer(error);
            const made = created.length > 0 ? ` (created before the refusal: ${created.map((view) => view.id).join(', ')})` : '';
            await deps.campaigns.durable();
            return reply.code(answer.statusCode).send({ ...answer, message: `${answer.message}${made}` });
          }
          await deps.campaigns.durable();
          return reply.code(201).send({ campaigns: created });
        }
        const input = campaignInputOf(body);
        if (!input.ok) {
          return reply
            .code(400)
            .send({
              statusCode: 400,
              error: 'Bad Request',
              message: `${input.problems.length} problems in the prices`,
              problems: input.problems,
            });
        }
        let view;
        try {
          const { id } = body;
          view = deps.campaigns.create({
            prices: input.prices,
            createdBy,
            ...(id === undefined ? {} : { id }),
            ...(input.effectiveAt === undefined ? {} : { effectiveAt: input.effectiveAt }),
          });
        } catch (error) {
          const answer = campaignErrorAnswer(error);
          return reply.code(answer.statusCode).send(answer);
        }
        // 201 is a promise: the campaign and its audit entry are on disk (its labels are sent only after that, too)
        await deps.campaigns.durable();
        return reply.code(201).send(view);
      },
    });

    app.get('/api/campaigns', {
      onRequest,
      schema: { response: { 200: campaignListSchema, ...denied } },
      handler: async () => ({ campaigns: deps.campaigns.list() }),
    });

    app.get('/api/campaigns/:id', {
      onRequest,
      schema: { params: campaignIdParams, response: { 200: campaignViewSchema, 400: errorSchema, 404: errorSchema, ...denied } },
      handler: async (request, reply) => {
        const view = deps.campaigns.get(request.params.id);
        if (!view) return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `campaign ${request.params.id} not found` });
        return view;
      },
    });

    app.post('/api/campaigns/:id/cancel', {
      onRequest,
      preValidation: emptyBodyIsObject,
      schema: {
        params: campaignIdParams,
        body: cancelCampaignBody,
        response: { 200: campaignViewSchema, 400: errorSchema, 404: errorSchema, 409: errorSchema, ...denied },
      },
      handler: async (request, reply) => {
        let view;
        try {
          view = deps.campaigns.cancel(request.params.id, principalOf(request).name);
        } catch (error) {
          const answer = campaignErrorAnswer(error);
          return reply.code(answer.statusCode).send(answer);
        }
        await deps.campaigns.durable();
        return view;
      },
    });

    app.post('/api/campaigns/:id/rollback', {
      onRequest,
      preValidation: emptyBodyIsObject,
      schema: {
        params: campaignIdParams,
        body: rollbackCampaignBody,
        response: { 201: campaignViewSchema, 400: errorSchema, 404: errorSchema, 409: errorSchema, ...denied },
      },
      handler: async (request, reply) => {
        let view;
        try {
          const rollbackId = request.body.id;
          view = deps.campaigns.rollback(request.params.id, principalOf(request).name, ...(rollbackId === undefined ? [] : [rollbackId]));
        } catch (error) {
          const answer = campaignErrorAnswer(error);
          return reply.code(answer.statusCode).send(answer);
        }
        await deps.campaigns.durable();
        return reply.code(201).send(view);
      },
    });
  };
}
