/** Schemas of the alert API (docs/http-api.md), in TypeBox: route types are inferred from them. */
import { Type } from 'typebox';
import { ALERT_KINDS, ALERT_STATES } from './alerts.js';

/** An alert as the API shows it; handlers return the domain `Alert`, which the type provider checks against this. */
export const alertSchema = Type.Object({
  id: Type.String(),
  kind: Type.Enum(ALERT_KINDS, { type: 'string' }),
  key: Type.String(),
  state: Type.Enum(ALERT_STATES, { type: 'string' }),
  severity: Type.String(),
  title: Type.String(),
  shelfId: Type.Optional(Type.String()),
  facing: Type.Optional(Type.Integer()),
  sku: Type.Optional(Type.String()),
  deviceId: Type.Optional(Type.String()),
  units: Type.Optional(Type.Integer()),
  openedAt: Type.Integer(),
  updatedAt: Type.Integer(),
  acknowledgedAt: Type.Optional(Type.Integer()),
  acknowledgedBy: Type.Optional(Type.String()),
  snoozedUntil: Type.Optional(Type.Integer()),
  resolvedAt: Type.Optional(Type.Integer()),
  resolvedBy: Type.Optional(Type.String()),
  resolution: Type.Optional(Type.String()),
});

export const alertListSchema = Type.Object({ alerts: Type.Array(alertSchema) });

export const alertListQuery = Type.Object(
  {
    state: Type.Optional(Type.Enum(['active', ...ALERT_STATES, 'all'], { type: 'string' })),
    kind: Type.Optional(Type.Enum(ALERT_KINDS, { type: 'string' })),
    // a string: querystrings are not coerced (app.ts), so the pattern is what bounds it
    limit: Type.Optional(Type.String({ pattern: '^(?:[1-9][0-9]{0,2}|1000)$', description: 'a whole number from 1 to 1000' })),
  },
  { additionalProperties: false },
);

export const alertIdParams = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9-]+$', description: 'an alert id: letters, digits and - only' }) },
  { additionalProperties: false },
);

// No `by` in the bodies: who acknowledged, snoozed or resolved is the name of the token that did it.
export const acknowledgeBody = Type.Object({}, { additionalProperties: false });
export const snoozeBody = Type.Object({ minutes: Type.Integer({ minimum: 1, maximum: 1440 }) }, { additionalProperties: false });
export const resolveBody = Type.Object({ note: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false });
