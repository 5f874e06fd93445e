/**
 * The campaign API: create (JSON with an optional `title`, or a CSV upload with `Content-Type: text/csv` named by
 * `?name=`), list, show, cancel, roll back, send the failed labels again. Managers only; who did it is the token's name.
 * Bad input is answered with EVERY problem (CSV: with its line).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyError } from 'fastify';
import { Type } from 'typebox';
import { principalOf, type AccessGuard } from '../http/auth.js';
import type { FieldWords } from '../http/schema-error-words.js';
import { errorSchema } from '../http/schemas.js';
import { countOf } from '../core/count-words.js';
import { CampaignError, MAX_CAMPAIGN_NAME_LENGTH, MAX_PRICE_CENTS, type CampaignErrorCode } from './campaign.js';
import { parseCampaignCsv, type CampaignCsvLimits } from './campaign-csv.js';
import {
  campaignIdParams,
  campaignInputOf,
  campaignListSchema,
  campaignProblemsSchema,
  campaignViewSchema,
  cancelCampaignBody,
  createCampaignBody,
  createCampaignQuery,
  resendCampaignBody,
  rollbackCampaignBody,
  type CreateCampaignBody,
} from './campaign-schemas.js';
import type { CampaignService } from './campaign-service.js';

export type CampaignRouteDeps = {
  campaigns: CampaignService;
  guard: AccessGuard;
  csvLimits?: CampaignCsvLimits;
  /** the largest upload of POST /api/campaigns (CSV or JSON), default CAMPAIGN_UPLOAD_LIMIT_BYTES */
  uploadLimitBytes?: number;
  /** the time a CSV's effectiveAt is compared with */
  now?: () => number;
};

/**
 * A price file of 100,000 rows (the CSV row limit) is 2–5 MB (`4000000000017,219` is 18 bytes, with an effectiveAt
 * 44; a 64-character sku with a date 110), JSON about twice that: 16 MiB takes the largest. The app's limit (64 KiB)
 * stays for every other route.
 */
export const CAMPAIGN_UPLOAD_LIMIT_BYTES = 16 * 1024 * 1024;

/** What the campaign fields take, for validation errors in words (the schemas say it to Ajv). */
const CAMPAIGN_FIELDS: FieldWords = {
  id: { name: 'campaign id', takes: 'letters, digits and - only, starting with a letter or digit, at most 64 characters' },
  sku: { takes: 'letters, digits and . _ - only, at most 64 characters' },
  priceCents: { takes: `a whole number of cents from 0 to ${MAX_PRICE_CENTS}` },
  effectiveAt: { takes: 'a date and time with its zone, e.g. 2026-12-01T06:00:00+01:00' },
  force: { takes: 'true or false' },
  name: { name: 'campaign name', takes: `1 to ${MAX_CAMPAIGN_NAME_LENGTH} characters` },
  title: { name: 'campaign title', takes: `1 to ${MAX_CAMPAIGN_NAME_LENGTH} characters` },
};

/** `?force=true`: send rows that are most likely mistakes but may be meant (price 0, an effectiveAt already past). */
const createQuery = createCampaignQuery;

const denied = { 401: errorSchema, 403: errorSchema, 429: errorSchema };
const STATUS_OF: Record<CampaignErrorCode, 400 | 404 | 409> = {
  'invalid-campaign': 400,
  'too-many-labels': 400,
  'duplicate-id': 409,
  'too-many-active': 409,
  'unknown-campaign': 404,
  'not-active': 409,
  'nothing-to-resend': 409,
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
    // scoped to this plugin: only the campaign routes take CSV (POST /api/campaigns has its own body limit, below)
    app.addContentTypeParser(['text/csv', 'application/csv'], { parseAs: 'string' }, (_request, body, done) => done(null, body));
    const uploadLimitBytes = deps.uploadLimitBytes ?? CAMPAIGN_UPLOAD_LIMIT_BYTES;
    const now = deps.now ?? Date.now;
    // scoped to these routes: a file over the limit is told the limit (fastify's own 413 does not say it); any other
    // error is rethrown, which fastify hands to the app's handler (validation 400s, storage 507/503)
    app.setErrorHandler(async (error: FastifyError, _request, reply) => {
      if (error.code !== 'FST_ERR_CTP_BODY_TOO_LARGE') throw error;
      const limit = `${(uploadLimitBytes / (1024 * 1024)).toFixed(0)} MiB (${uploadLimitBytes} bytes)`;
      return reply.code(413).send({
        statusCode: 413,
        error: 'Payload Too Large',
        message: `the upload is larger than the ${limit} a price file may have: split it into several files`,
      });
    });
    const onRequest = deps.guard('manager');
    // reading campaigns is for everyone signed in: staff on the floor see which prices are changing and why a label
    // waits (the prices are on the shelf anyway); changing them stays with managers
    const onRead = deps.guard('viewer');
    // cancel and rollback take an optional body: none is the same as {}, so a bare POST works and the schema still holds
    const emptyBodyIsObject = async (request: { body: unknown }) => {
      request.body ??= {};
    };

    app.post('/api/campaigns', {
      onRequest,
      bodyLimit: uploadLimitBytes,
      config: { fieldWords: CAMPAIGN_FIELDS },
      schema: {
        summary: 'Create a price campaign from JSON or a CSV upload',
        querystring: createQuery,
        body: createBody,
        response: {
          201: Type.Union([campaignViewSchema, campaignListSchema]),
          400: Type.Union([campaignProblemsSchema, errorSchema]),
          409: errorSchema,
          413: errorSchema,
          415: errorSchema,
          ...denied,
        },
      },
      handler: async (request, reply) => {
        const createdBy = principalOf(request).name;
        const name = request.query.name;
        const body = request.body as CreateCampaignBody | string;
        if (typeof body === 'string') {
          const parsed = await parseCampaignCsv(body, deps.csvLimits, {
            isKnownSku: (sku) => deps.campaigns.knowsSku(sku),
            confirm: { now: now(), force: request.query.force === 'true' },
          });
          if (!parsed.ok) {
            const forceable = parsed.problems.filter((problem) => problem.forceable).length;
            return reply.code(400).send({
              statusCode: 400,
              error: 'Bad Request',
              message: `${countOf(parsed.problems.length, 'bad row')} in the CSV${
                forceable === parsed.problems.length ? ' (each may be meant: send it with force to go ahead)' : ''
              }`,
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
                  ...(name === undefined ? {} : { name }),
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
          return reply.code(400).send({
            statusCode: 400,
            error: 'Bad Request',
            message: `${countOf(input.problems.length, 'problem')} in the prices`,
            problems: input.problems,
          });
        }
        let view;
        try {
          const { id } = body;
          // a JSON body names itself (title); ?name= is the CSV's way, taken here too when there is no title
          const title = body.title ?? name;
          view = deps.campaigns.create({
            prices: input.prices,
            createdBy,
            ...(id === undefined ? {} : { id }),
            ...(title === undefined ? {} : { name: title }),
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
      onRequest: onRead,
      schema: { summary: 'Every price campaign kept', response: { 200: campaignListSchema, ...denied } },
      handler: async () => ({ campaigns: deps.campaigns.list() }),
    });

    app.get('/api/campaigns/:id', {
      onRequest: onRead,
      config: { fieldWords: CAMPAIGN_FIELDS },
      schema: {
        summary: 'One price campaign: label counts by state and the failed labels',
        params: campaignIdParams,
        response: { 200: campaignViewSchema, 400: errorSchema, 404: errorSchema, ...denied },
      },
      handler: async (request, reply) => {
        const view = deps.campaigns.get(request.params.id);
        if (!view) return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `campaign ${request.params.id} not found` });
        return view;
      },
    });

    app.post('/api/campaigns/:id/cancel', {
      onRequest,
      config: { fieldWords: CAMPAIGN_FIELDS },
      preValidation: emptyBodyIsObject,
      schema: {
        summary: 'Cancel a campaign: labels not yet confirmed are cancelled',
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
      config: { fieldWords: CAMPAIGN_FIELDS },
      preValidation: emptyBodyIsObject,
      schema: {
        summary: 'Roll a campaign back: a new campaign that puts the previous prices back',
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

    app.post('/api/campaigns/:id/resend', {
      onRequest,
      config: { fieldWords: CAMPAIGN_FIELDS },
      preValidation: emptyBodyIsObject,
      schema: {
        summary: "Send again: a new campaign that sends a campaign's failed labels their price again",
        params: campaignIdParams,
        body: resendCampaignBody,
        response: { 201: campaignViewSchema, 400: errorSchema, 404: errorSchema, 409: errorSchema, ...denied },
      },
      handler: async (request, reply) => {
        let view;
        try {
          const resendId = request.body.id;
          view = deps.campaigns.resend(request.params.id, principalOf(request).name, ...(resendId === undefined ? [] : [resendId]));
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
