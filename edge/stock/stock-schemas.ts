/** JSON Schemas of the stock API's responses (docs/http-api.md `FacingStock`). */
export const facingStockSchema = {
  type: 'object',
  properties: {
    shelfId: { type: 'string' },
    facing: { type: 'integer' },
    sku: { type: 'string' },
    name: { type: 'string' },
    units: { type: ['integer', 'null'] },
    weightG: { type: ['number', 'null'] },
    capacityUnits: { type: 'integer' },
    lowStockUnits: { type: 'integer' },
    restockUnits: { type: 'integer' },
    level: { type: 'string' },
    source: { type: ['string', 'null'] },
    updatedAt: { type: ['integer', 'null'] },
  },
} as const;

