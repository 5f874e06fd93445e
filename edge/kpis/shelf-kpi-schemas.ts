/** The shelf KPIs' part of the `GET /api/kpis` response (shelf-kpis.ts computes them), spread into its schema. */
import { Type } from 'typebox';

const nullableInteger = Type.Union([Type.Integer(), Type.Null()]);
const nullablePercent = Type.Union([Type.Number({ minimum: 0, maximum: 100 }), Type.Null()]);
const day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: "a store day (midnight to midnight in the store's time zone)" });

const availability = {
  percent: nullablePercent,
  watchedFacingMinutes: Type.Number({ minimum: 0 }),
  emptyFacingMinutes: Type.Number({ minimum: 0 }),
};
const accuracy = { alerts: Type.Integer(), onTime: Type.Integer(), pending: Type.Integer(), percent: nullablePercent };
const leadTime = { stockOuts: Type.Integer(), predicted: Type.Integer(), predictedPercent: nullablePercent, meanMs: nullableInteger };

export const shelfKpisProperties = {
  onShelfAvailability: Type.Object(
    { ...availability, perDay: Type.Array(Type.Object({ day, ...availability }, { additionalProperties: false })) },
    {
      additionalProperties: false,
      description: 'facing-minutes not empty / all facing-minutes the gateway knew the units of, in the window (null: none)',
    },
  ),
  stockOuts: Type.Object(
    {
      count: Type.Integer(),
      restocked: Type.Integer(),
      ongoing: Type.Integer(),
      totalMs: Type.Integer(),
      meanMs: nullableInteger,
      perDay: Type.Array(Type.Object({ day, count: Type.Integer(), totalMs: Type.Integer() }, { additionalProperties: false })),
    },
    {
      additionalProperties: false,
      description:
        'facings at 0 units until restocked, begun in the window: total empty time (ongoing ones until now), mean of the restocked',
    },
  ),
  replenishmentAccuracy: Type.Object(
    { targetMs: Type.Integer(), ...accuracy, perDay: Type.Array(Type.Object({ day, ...accuracy }, { additionalProperties: false })) },
    {
      additionalProperties: false,
      description:
        'low-stock alerts opened in the window and answered by a restock within targetMs / all decided (pending: within it, still open)',
    },
  ),
  predictionLeadTime: Type.Object(
    {
      ...leadTime,
      p50Ms: nullableInteger,
      perDay: Type.Array(Type.Object({ day, ...leadTime }, { additionalProperties: false })),
    },
    {
      additionalProperties: false,
      description: 'stock-outs begun in the window that a stock-out-predicted alert preceded, and how long before',
    },
  ),
};
