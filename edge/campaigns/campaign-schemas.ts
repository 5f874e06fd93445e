/**
 * Schemas of the campaign API (POST /api/campaigns, GET /api/campaigns/:id), in TypeBox: route types are inferred from
 * them. Plus the one translation a schema cannot express — a body's prices into the domain's sku → price map, which
 * refuses one sku with two prices and impossible dates, naming every problem like the CSV upload does.
 */
import { Type, type Static } from 'typebox';
import {
  CAMPAIGN_ID_PATTERN,
  CAMPAIGN_STATES,
  LABEL_STATES,
  MAX_CAMPAIGN_NAME_LENGTH,
  MAX_PRICE_CENTS,
  SKU_PATTERN,
  type LabelState,
} from './campaign.js';
import { parseEffectiveAt } from './campaign-csv.js';

/** The bound of a campaign's prices in one request (the campaign limits bound its labels). */
export const MAX_PRICES_PER_REQUEST = 100_000;

const sku = Type.String({ pattern: SKU_PATTERN });
const priceCents = Type.Integer({ minimum: 0, maximum: MAX_PRICE_CENTS });
const campaignId = Type.String({ pattern: CAMPAIGN_ID_PATTERN });
/** ISO 8601 with its zone: a time without one would be read in the gateway's zone, maybe not the writer's */
const effectiveAt = Type.String({ format: 'date-time', maxLength: 40 });
/** the price file's name or a title; the machine refuses a blank one or control characters, in words */
const campaignName = Type.String({ minLength: 1, maxLength: MAX_CAMPAIGN_NAME_LENGTH });

// No createdBy in the body: who made a campaign is the name of the token that posted it.
export const createCampaignBody = Type.Object(
  {
    /** optional: the gateway makes one; HQ passes its own so a retried request does not make two campaigns */
    id: Type.Optional(campaignId),
    /** what people call it on the staff page and in `price status` (HQ's or a script's title) */
    title: Type.Optional(campaignName),
    prices: Type.Array(Type.Object({ sku, priceCents }, { additionalProperties: false }), {
      minItems: 1,
      maxItems: MAX_PRICES_PER_REQUEST,
    }),
    effectiveAt: Type.Optional(effectiveAt),
  },
  { additionalProperties: false },
);
export type CreateCampaignBody = Static<typeof createCampaignBody>;

export const campaignIdParams = Type.Object({ id: campaignId }, { additionalProperties: false });
export const cancelCampaignBody = Type.Object({}, { additionalProperties: false });
export const rollbackCampaignBody = Type.Object({ id: Type.Optional(campaignId) }, { additionalProperties: false });
/** `id`: the new campaign's, as for a rollback (a retried request then cannot send twice) */
export const resendCampaignBody = Type.Object({ id: Type.Optional(campaignId) }, { additionalProperties: false });

/** `?name=`: the CSV upload's name (the file's name), since a CSV body has no field for it; `?force=true`: see the route */
export const createCampaignQuery = Type.Object(
  {
    force: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
    name: Type.Optional(campaignName),
  },
  { additionalProperties: false },
);

const labelCounts = Type.Object(
  Object.fromEntries(LABEL_STATES.map((state) => [state, Type.Integer({ minimum: 0 })])) as Record<
    LabelState,
    ReturnType<typeof Type.Integer>
  >,
  { additionalProperties: false },
);

/** A campaign as the API shows it; handlers return the domain `CampaignView`, which the type provider checks against this. */
export const campaignViewSchema = Type.Object({
  id: Type.String(),
  name: Type.Optional(Type.String()),
  skus: Type.Integer({ minimum: 0 }),
  state: Type.Enum(CAMPAIGN_STATES, { type: 'string' }),
  createdBy: Type.String(),
  createdAt: Type.Integer(),
  effectiveAt: Type.Optional(Type.Integer()),
  startedAt: Type.Optional(Type.Integer()),
  finishedAt: Type.Optional(Type.Integer()),
  cancelledBy: Type.Optional(Type.String()),
  rollbackOf: Type.Optional(Type.String()),
  rolledBackBy: Type.Optional(Type.String()),
  resendOf: Type.Optional(Type.String()),
  total: Type.Integer({ minimum: 0 }),
  counts: labelCounts,
  failed: Type.Array(
    Type.Object({
      labelId: Type.String(),
      sku: Type.String(),
      priceCents: Type.Integer(),
      attempts: Type.Integer(),
      reason: Type.String(),
    }),
  ),
  failedNotListed: Type.Integer({ minimum: 0 }),
  mismatched: Type.Array(
    Type.Object({
      labelId: Type.String(),
      sku: Type.String(),
      priceCents: Type.Integer(),
      shownPriceCents: Type.Integer(),
      since: Type.Integer(),
    }),
  ),
  mismatchedNotListed: Type.Integer({ minimum: 0 }),
  waiting: Type.Array(
    Type.Object({
      labelId: Type.String(),
      sku: Type.String(),
      priceCents: Type.Integer(),
      state: Type.Union([Type.Literal('waiting'), Type.Literal('retrying')]),
      since: Type.Integer(),
      reason: Type.String(),
      retryAt: Type.Optional(Type.Integer()),
    }),
  ),
  waitingNotListed: Type.Integer({ minimum: 0 }),
  unmappedSkus: Type.Array(Type.String()),
  skippedLabels: Type.Array(Type.Object({ labelId: Type.String(), reason: Type.String() })),
});

export const campaignListSchema = Type.Object({ campaigns: Type.Array(campaignViewSchema) });

/** 400 answer of a CSV upload or a body with problems: every one, with its line (CSV) or item index + 1 (JSON). */
export const campaignProblemsSchema = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String(),
  message: Type.String(),
  /** forceable: a row that may be meant (price 0, a time already past), sent when the upload says force */
  problems: Type.Array(Type.Object({ line: Type.Integer(), reason: Type.String(), forceable: Type.Optional(Type.Boolean()) })),
});

export type CampaignBodyProblem = { line: number; reason: string };

/**
 * The body's prices as the domain takes them, or every problem: `line` is the item's position in `prices` (1-based),
 * so a client gets the same kind of answer as for a CSV. The schema has checked types and ranges already.
 */
export function campaignInputOf(
  body: CreateCampaignBody,
): { ok: true; prices: Record<string, number>; effectiveAt?: number } | { ok: false; problems: CampaignBodyProblem[] } {
  const problems: CampaignBodyProblem[] = [];
  const prices: Record<string, number> = {};
  const firstAt = new Map<string, number>();
  body.prices.forEach((item, index) => {
    const earlier = firstAt.get(item.sku);
    if (earlier === undefined) {
      firstAt.set(item.sku, index + 1);
      prices[item.sku] = item.priceCents;
    } else if (prices[item.sku] !== item.priceCents) {
      problems.push({
        line: index + 1,
        reason: `duplicate sku ${item.sku} with a different price (${prices[item.sku]} at item ${earlier})`,
      });
    }
  });
  let at: number | undefined;
  if (body.effectiveAt !== undefined) {
    const parsed = parseEffectiveAt(body.effectiveAt);
    if (typeof parsed === 'string') problems.push({ line: 0, reason: `effectiveAt: ${parsed}` });
    else at = parsed;
  }
  if (problems.length > 0) return { ok: false, problems };
  return at === undefined ? { ok: true, prices } : { ok: true, prices, effectiveAt: at };
}
