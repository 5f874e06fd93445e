/**
 * `GET /api/replenishment` (viewer): the pick list a clerk takes to the backroom. `GET /api/availability` (viewer):
 * units of each sku HQ's online shop may promise. `GET /api/insight/tare-proposals` (viewer): empty facings whose load
 * cell reads a steady offset, with the tare store IT may set. All answer 503 while `insight.enabled` is false.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AccessGuard } from '../http/auth.js';
import { errorSchema } from '../http/schemas.js';
import type { SkuAvailability } from './availability.js';
import type { TareProposal } from './insight-engine.js';
import { byAisle, type PickLine } from './replenishment.js';

const pickLineSchema = Type.Object(
  {
    shelfId: Type.String(),
    facing: Type.Integer(),
    sku: Type.String(),
    name: Type.String(),
    aisle: Type.Optional(Type.String()),
    urgency: Type.Enum(['empty', 'predicted', 'low'], { type: 'string' }),
    units: Type.Integer(),
    unitsToBring: Type.Integer({ description: 'what fills the facing to capacity' }),
    emptyAt: Type.Optional(Type.Integer({ description: 'a predicted facing: when it is expected to run out, ms since epoch' })),
  },
  { additionalProperties: false },
);

export const replenishmentSchema = Type.Object(
  {
    at: Type.Integer(),
    lines: Type.Array(pickLineSchema, { description: 'most urgent first: empty, predicted to run out (soonest first), low' }),
    aisles: Type.Optional(
      Type.Array(
        Type.Object(
          { aisle: Type.Union([Type.String(), Type.Null()]), lines: Type.Array(pickLineSchema) },
          { additionalProperties: false },
        ),
        { description: "the same lines by aisle, when the planogram's layout names aisles" },
      ),
    ),
  },
  { additionalProperties: false },
);

const availabilityItemSchema = Type.Object(
  {
    sku: Type.String(),
    availableUnits: Type.Integer({ description: 'units on the shelf minus insight.availabilitySafetyUnits, never negative' }),
    shelfUnits: Type.Integer(),
    unknownFacings: Type.Integer({ description: 'facings of the sku with no reading yet: their units are not counted' }),
    at: Type.Integer(),
  },
  { additionalProperties: false },
);

export const availabilitySchema = Type.Object({ availability: Type.Array(availabilityItemSchema) }, { additionalProperties: false });

const tareProposalSchema = Type.Object(
  {
    shelfId: Type.String(),
    facing: Type.Integer(),
    sku: Type.String(),
    currentTareG: Type.Number({ description: "the planogram's tare of the facing's load cell" }),
    proposedTareG: Type.Number({ description: 'the median raw weight of the empty facing: set as its tare, it reads 0 empty' }),
    evidence: Type.Object(
      {
        medianNetG: Type.Number({ description: 'what the empty facing weighs net of its tare now' }),
        spreadG: Type.Number({ description: 'the middle half of the samples spans this: a steady offset, not a hand' }),
        samples: Type.Integer({ description: 'raw readings sampled while empty (one per 10 s, the latest 64)' }),
        emptySince: Type.Integer({ description: 'since when the load cell reads the facing empty, ms since epoch' }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export const tareProposalsSchema = Type.Object(
  { at: Type.Integer(), proposals: Type.Array(tareProposalSchema) },
  { additionalProperties: false },
);

/** the list's length, 1–500 (a string: the app does not coerce query types); 100 when absent */
const replenishmentQuery = Type.Object(
  { limit: Type.Optional(Type.String({ pattern: '^(?:[1-9][0-9]?|[1-4][0-9]{2}|500)$', description: 'a whole number from 1 to 500' })) },
  { additionalProperties: false },
);
const availabilityQuery = Type.Object(
  { sku: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })) },
  { additionalProperties: false },
);

const DEFAULT_PICK_LINES = 100;

export type InsightReader = {
  pickList(limit: number): PickLine[] | undefined;
  availability(sku?: string): SkuAvailability[] | undefined;
  tareProposals(): TareProposal[] | undefined;
};

const DISABLED = { statusCode: 503, error: 'Service Unavailable', message: 'insight is disabled (insight.enabled: false)' };

export function insightRoutes(deps: { insight: InsightReader; guard: AccessGuard; now: () => number }): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/api/replenishment', {
      onRequest: deps.guard('viewer'),
      schema: {
        summary: 'The pick list: what to bring to which facing, most urgent first',
        querystring: replenishmentQuery,
        response: { 200: replenishmentSchema, 400: errorSchema, 401: errorSchema, 403: errorSchema, 429: errorSchema, 503: errorSchema },
      },
      handler: async (request, reply) => {
        const lines = deps.insight.pickList(Number(request.query.limit ?? DEFAULT_PICK_LINES));
        if (lines === undefined) return reply.code(503).send(DISABLED);
        // grouped only when the planogram has a layout: a list of one "no aisle" group tells a clerk nothing
        const grouped = lines.some((line) => line.aisle !== undefined) ? { aisles: byAisle(lines) } : {};
        return { at: deps.now(), lines, ...grouped };
      },
    });
    app.get('/api/availability', {
      onRequest: deps.guard('viewer'),
      schema: {
        summary: "Availability per sku, for HQ's online shop",
        querystring: availabilityQuery,
        response: {
          200: availabilitySchema,
          400: errorSchema,
          401: errorSchema,
          403: errorSchema,
          404: errorSchema,
          429: errorSchema,
          503: errorSchema,
        },
      },
      handler: async (request, reply) => {
        const sku = request.query.sku;
        const availability = deps.insight.availability(sku);
        if (availability === undefined) return reply.code(503).send(DISABLED);
        if (sku !== undefined && availability.length === 0) {
          return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `sku ${sku} is not in the planogram` });
        }
        return { availability };
      },
    });
    app.get('/api/insight/tare-proposals', {
      onRequest: deps.guard('viewer'),
      schema: {
        summary: 'Empty facings whose load cell reads a steady offset, with the tare to set (for store IT; no alert)',
        response: { 200: tareProposalsSchema, 401: errorSchema, 403: errorSchema, 429: errorSchema, 503: errorSchema },
      },
      handler: async (_request, reply) => {
        const proposals = deps.insight.tareProposals();
        if (proposals === undefined) return reply.code(503).send(DISABLED);
        return { at: deps.now(), proposals };
      },
    });
  };
}
