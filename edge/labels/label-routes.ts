/**
 * The label API (docs/http-api.md): `GET /api/labels` — every label the room knows with its health, driver, battery,
 * last check-in and binding (viewer); `PUT /api/labels/:id/binding` — staff link a label to a facing, the way a
 * handheld does (manager: which label shows which price is a pricing decision).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { DEVICE_ID_PATTERN } from '../device-registry/topics.js';
import { principalOf, type AccessGuard } from '../http/auth.js';
import { errorSchema } from '../http/schemas.js';
import { LabelBindingError, labelKey, type BindingTarget } from './label-bindings.js';
import type { TransactionStep } from '../storage/database.js';

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
    displayedPriceCents: nullable(Type.Integer()),
    shelfId: nullable(Type.String()),
    facing: nullable(Type.Integer()),
    sku: nullable(Type.String()),
    bindingSource: nullable(Type.Union([Type.Literal('planogram'), Type.Literal('api')])),
  },
  { additionalProperties: false },
);
export type LabelView = Static<typeof labelViewSchema>;

export const labelListSchema = Type.Object(
  { labels: Type.Array(labelViewSchema), truncated: Type.Boolean() },
  { additionalProperties: false },
);
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
    list(limit: number): { labels: LabelView[]; truncated: boolean };
    bind(labelId: string, target: BindingTarget, by: string, withChange?: TransactionStep): Promise<LabelView>;
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
      schema: { summary: 'Every shelf label the gateway tracks', response: { 200: labelListSchema, ...denied } },
      handler: async () => deps.labels.list(deps.maxListed ?? 50_000),
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
          return view;
        } catch (error) {
          if (error instanceof LabelBindingError)
            return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: error.message });
          throw error;
        }
      },
    });
  };
}
