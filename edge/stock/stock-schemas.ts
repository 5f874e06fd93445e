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

export const shelfListSchema = Type.Object({
  shelves: Type.Array(Type.Object({ id: Type.String(), facings: Type.Array(facingStockSchema) })),
});
