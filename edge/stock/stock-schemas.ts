/** Schemas of the stock API's responses (docs/http-api.md `FacingStock`), in TypeBox: route types follow from them. */
import { Type } from 'typebox';
import { Nullable } from '../core/schema.js';

/** A facing as staff see it; the handler returns the book's `FacingStockView`, which the type provider checks against this. */
export const facingStockSchema = Type.Object({
  shelfId: Type.String(),
  facing: Type.Integer(),
  sku: Type.String(),
  name: Type.String(),
  units: Nullable(Type.Integer()),
  weightG: Nullable(Type.Number()),
  capacityUnits: Type.Integer(),
  lowStockUnits: Type.Integer(),
  restockUnits: Type.Integer(),
  level: Type.String(),
  source: Nullable(Type.String()),
  updatedAt: Nullable(Type.Integer()),
});

/** Where the planogram's layout places a shelf: its aisle, the side, its place from the aisle's start (docs/planogram.md). */
export const shelfPlaceSchema = Type.Object(
  { aisle: Type.String(), side: Type.Enum(['left', 'right'], { type: 'string' }), order: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);

export const shelfListSchema = Type.Object({
  shelves: Type.Array(
    Type.Object({
      id: Type.String(),
      place: Type.Optional(shelfPlaceSchema),
      facings: Type.Array(facingStockSchema),
    }),
  ),
  aisles: Type.Optional(
    Type.Array(Type.Object({ aisle: Type.String(), name: Type.Optional(Type.String()) }, { additionalProperties: false }), {
      description: "the layout's aisles in walking order; absent when the planogram has no layout",
    }),
  ),
});

const historyPointSchema = Type.Object(
  { at: Type.Integer({ description: 'ms since epoch' }), units: Type.Integer() },
  { additionalProperties: false },
);

/** GET /api/facings/:shelfId/:facing/history: units over a window, as a step line (each point holds until the next). */
export const facingHistorySchema = Type.Object(
  {
    shelfId: Type.String(),
    facing: Type.Integer(),
    sku: Type.String(),
    name: Type.String({ description: "the product's name from the planogram" }),
    capacityUnits: Type.Integer(),
    lowStockUnits: Type.Integer(),
    units: Nullable(Type.Integer({ description: 'the units now (null: no reading yet)' })),
    from: Type.Integer(),
    to: Type.Integer(),
    points: Type.Array(historyPointSchema, {
      description:
        'in time order; the first is drawn at `from` with the units the facing had then; more than 500 are cut to the lowest ' +
        'and highest of equal spans, so an empty facing never disappears',
    }),
  },
  { additionalProperties: false },
);
