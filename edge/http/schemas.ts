/** JSON Schemas of the HTTP API's bodies and responses (docs/http-api.md). */
import { ALERT_KINDS, ALERT_STATES } from '../alerts/alerts.js';
import { DEVICE_ID_PATTERN, DEVICE_KINDS } from '../devices/topics.js';

export const errorSchema = {
  type: 'object',
  properties: { statusCode: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' } },
} as const;

export const alertSchema = {
  type: 'object',
  required: ['id', 'kind', 'key', 'state', 'severity', 'title', 'openedAt', 'updatedAt'],
  properties: {
    id: { type: 'string' },
    kind: { type: 'string', enum: ALERT_KINDS },
    key: { type: 'string' },
    state: { type: 'string', enum: ALERT_STATES },
    severity: { type: 'string' },
    title: { type: 'string' },
    shelfId: { type: 'string' },
    facing: { type: 'integer' },
    sku: { type: 'string' },
    deviceId: { type: 'string' },
    units: { type: 'integer' },
    openedAt: { type: 'integer' },
    updatedAt: { type: 'integer' },
    acknowledgedAt: { type: 'integer' },
    acknowledgedBy: { type: 'string' },
    snoozedUntil: { type: 'integer' },
    resolvedAt: { type: 'integer' },
    resolvedBy: { type: 'string' },
    resolution: { type: 'string' },
  },
} as const;

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

/** Who did it: a staff name or badge id, shown in the alert's history. */
export const staffName = { type: 'string', minLength: 1, maxLength: 64 } as const;

export const alertIdParams = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9-]+$' } },
} as const;

export const deviceBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'kind'],
  properties: { id: { type: 'string', pattern: DEVICE_ID_PATTERN }, kind: { type: 'string', enum: DEVICE_KINDS } },
} as const;
