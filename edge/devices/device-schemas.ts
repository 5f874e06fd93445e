/** JSON Schemas of the device API (docs/http-api.md). */
import { DEVICE_ID_PATTERN, DEVICE_KINDS } from './topics.js';

export const deviceBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'kind'],
  properties: { id: { type: 'string', pattern: DEVICE_ID_PATTERN }, kind: { type: 'string', enum: DEVICE_KINDS } },
} as const;
