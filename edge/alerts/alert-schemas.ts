/** JSON Schemas of the alert API (docs/http-api.md). */
import { ALERT_KINDS, ALERT_STATES } from './alerts.js';

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

/** Who did it: a staff name or badge id, shown in the alert's history. */
export const staffName = { type: 'string', minLength: 1, maxLength: 64 } as const;

export const alertIdParams = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9-]+$' } },
} as const;

