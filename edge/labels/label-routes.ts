/**
 * The label API (docs/http-api.md): `GET /api/labels` — the labels the room knows with their health, driver, battery,
 * last check-in, binding, product and prices (shown, confirmed, on its way), worst problem first, filtered and paged,
 * with counts per problem and per driver (viewer); `PUT /api/labels/:id/binding` — staff link a label to a facing, the way a
 * handheld does (manager: which label shows which price is a pricing decision).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static, type TInteger } from 'typebox';
import { DEVICE_ID_PATTERN } from '../device-registry/topics.js';
import { principalOf, type AccessGuard } from '../http/auth.js';
import { errorSchema } from '../http/schemas.js';
import type { FieldWords } from '../http/schema-error-words.js';
import { LABEL_PROBLEMS, labelProblem, needsAttention, sortLabels, type LabelProblem } from './label-problems.js';
import { LabelBindingError, labelKey, type BindingTarget } from './label-bindings.js';
import type { TransactionStep } from '../storage/database.js';
import { naturalCompare } from '../core/natural-order.js';

const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

export const labelViewSchema = Type.Object(
  {
    labelId: Type.String(),
    state: Type.Union([Type.Literal('ok'), Type.Literal('offline'), Type.Literal('battery-low'), Type.Literal('never-seen')]),
    driverId: nullable(Type.String()),
    /** the link of the label's driver to its access point */
    driverLinkUp: nullable(Type.Boolean()),
    /** why that link is down (e.g. `unsupported firmware …`); null while up */
    driverLinkDetail: nullable(Type.String()),
    batteryMv: nullable(Type.Integer()),
    lastSeenAt: nullable(Type.Integer()),
    /** the price the label reported showing last */
    displayedPriceCents: nullable(Type.Integer()),
    /** the price the label last confirmed through a price campaign */
    confirmedPriceCents: nullable(Type.Integer()),
    /** the campaign that price came from (its "send again" puts it back on a label that shows another) */
    confirmedCampaignId: nullable(Type.String()),
    /** a campaign's price on its way to the label, not confirmed yet */
    pendingPriceCents: nullable(Type.Integer()),
    shelfId: nullable(Type.String()),
    facing: nullable(Type.Integer()),
    sku: nullable(Type.String()),
    /** the planogram's name of the sku */
    productName: nullable(Type.String()),
    bindingSource: nullable(Type.Union([Type.Literal('planogram'), Type.Literal('api')])),
    /** the worst thing about the label (edge/labels/label-problems.ts): the list's order */
    problem: Type.Enum(LABEL_PROBLEMS),
  },
  { additionalProperties: false },
);
export type LabelView = Static<typeof labelViewSchema>;
/** A label as the room knows it, before its problem is named. */
export type LabelFactsView = Omit<LabelView, 'problem'>;

const driverSummarySchema = Type.Object(
  {
    driverId: Type.String(),
    labels: Type.Integer({ description: 'labels this driver carries (of every label, not only the listed)' }),
    /** labels of this driver with a problem that needs attention */
    problems: Type.Integer(),
    linkUp: nullable(Type.Boolean()),
    linkDetail: nullable(Type.String()),
  },
  { additionalProperties: false },
);
export type LabelDriverSummary = Static<typeof driverSummarySchema>;

export const labelListSchema = Type.Object(
  {
    labels: Type.Array(labelViewSchema),
    /** more labels match than this answer lists */
    truncated: Type.Boolean(),
    /** labels that match the query */
    total: Type.Integer(),
    /** every label the room tracks, by problem (the query does not narrow them) */
    counts: Type.Object(Object.fromEntries(LABEL_PROBLEMS.map((problem) => [problem, Type.Integer()])) as Record<LabelProblem, TInteger>, {
      additionalProperties: false,
    }),
    /** every label driver that carries a label, by id */
    drivers: Type.Array(driverSummarySchema),
  },
  { additionalProperties: false },
);
export type LabelList = Static<typeof labelListSchema>;

const MAX_LISTED = 50_000;
/** Query values arrive as text (the app's Ajv does not coerce): a whole number is spelled out. */
const wholeNumber = (description: string) => Type.String({ pattern: '^(?:0|[1-9][0-9]{0,4})$', description });
export const labelListQuery = Type.Object(
  {
    problems: Type.Optional(
      Type.Union([Type.Literal('true'), Type.Literal('false')], {
        description: 'true: only labels that need attention (failed, offline, never seen, low battery)',
      }),
    ),
    driverId: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'only the labels of this driver' })),
    offset: Type.Optional(wholeNumber('labels skipped, in the list order')),
    limit: Type.Optional(wholeNumber(`most labels listed, up to ${MAX_LISTED} (0: only the counts)`)),
  },
  { additionalProperties: false },
);
export type LabelListQuery = Static<typeof labelListQuery>;
const LIST_FIELDS: FieldWords = {
  problems: { takes: 'true or false' },
  driverId: { name: 'driver id' },
  offset: { takes: 'a whole number from 0 to 99999' },
  limit: { takes: 'a whole number from 0 to 99999' },
};
const labelIdParams = Type.Object({
  id: Type.String({ pattern: DEVICE_ID_PATTERN, description: 'a label device id or an OpenEPaperLink mac' }),
});
export const bindingBody = Type.Object(
  { shelfId: Type.String({ minLength: 1, maxLength: 64 }), facing: Type.Integer({ minimum: 1, maximum: 64 }) },
  { additionalProperties: false },
);

const denied = { 401: errorSchema, 403: errorSchema, 429: errorSchema };

export type LabelRouteDeps = {
  labels: {
    /** every label tracked (bounded by labels.drivers.maxLabels) */
    views(): Iterable<LabelFactsView>;
    bind(labelId: string, target: BindingTarget, by: string, withChange?: TransactionStep): Promise<LabelFactsView>;
  };
  guard: AccessGuard;
  /** most labels one answer lists */
  maxListed?: number;
  /** the audit entry of a person binding a label, committed with the binding: a 200 means both are on disk */
  audited?: (change: { labelId: string; shelfId: string; facing: number; actor: string }) => TransactionStep;
};

export function labelRoutes(deps: LabelRouteDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/api/labels', {
      onRequest: deps.guard('viewer'),
      schema: {
        summary: 'The shelf labels the gateway tracks, worst problem first',
        querystring: labelListQuery,
        response: { 200: labelListSchema, 400: errorSchema, ...denied },
      },
      config: { fieldWords: LIST_FIELDS },
      handler: async (request) => listLabels(deps.labels.views(), request.query, deps.maxListed ?? MAX_LISTED),
    });

    app.put('/api/labels/:id/binding', {
      onRequest: deps.guard('manager'),
      schema: {
        summary: 'Bind a label to a shelf facing',
        params: labelIdParams,
        body: bindingBody,
        response: { 200: labelViewSchema, 400: errorSchema, ...denied },
      },
      handler: async (request, reply) => {
        try {
          const actor = principalOf(request).name;
          const labelId = labelKey(request.params.id);
          const view = await deps.labels.bind(
            request.params.id,
            request.body,
            actor,
            deps.audited?.({ labelId, shelfId: request.body.shelfId, facing: request.body.facing, actor }),
          );
          return withProblem(view);
        } catch (error) {
          if (error instanceof LabelBindingError)
            return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: error.message });
          throw error;
        }
      },
    });
  };
}

export function withProblem(view: LabelFactsView): LabelView {
  return { ...view, problem: labelProblem(view) };
}

/** The answer to GET /api/labels, pure: every label ranked, counted, filtered, then one page of it. */
export function listLabels(views: Iterable<LabelFactsView>, query: LabelListQuery, maxListed: number): LabelList {
  const counts: Record<LabelProblem, number> = Object.fromEntries(LABEL_PROBLEMS.map((problem) => [problem, 0])) as Record<
    LabelProblem,
    number
  >;
  // bounded by the number of label drivers (access points + 1)
  const drivers = new Map<string, LabelDriverSummary>();
  const matching: LabelView[] = [];
  for (const facts of views) {
    const view = withProblem(facts);
    counts[view.problem]++;
    if (view.driverId !== null) {
      const driver = drivers.get(view.driverId) ?? {
        driverId: view.driverId,
        labels: 0,
        problems: 0,
        linkUp: view.driverLinkUp,
        linkDetail: view.driverLinkDetail,
      };
      driver.labels++;
      if (needsAttention(view.problem)) driver.problems++;
      drivers.set(view.driverId, driver);
    }
    if (query.problems === 'true' && !needsAttention(view.problem)) continue;
    if (query.driverId !== undefined && view.driverId !== query.driverId) continue;
    matching.push(view);
  }
  const offset = Number(query.offset ?? 0);
  const labels = sortLabels(matching).slice(offset, offset + Math.min(Number(query.limit ?? maxListed), maxListed));
  return {
    labels,
    truncated: offset + labels.length < matching.length,
    total: matching.length,
    counts,
    drivers: [...drivers.values()].sort((a, b) => naturalCompare(a.driverId, b.driverId)),
  };
}
