/**
 * The `alerts` section of the gateway configuration. Defaults live here, in the schema (`default:`), and nowhere
 * else. Pure: TypeBox only.
 */
import { Type, type Static } from 'typebox';

export const AlertsConfigSchema = Type.Object(
  {
    snoozeCheckMs: Type.Integer({
      minimum: 10,
      maximum: 3_600_000,
      description: 'how often snoozed alerts whose snooze ended are woken, and silenced low-stock facings looked at again',
      default: 15_000,
    }),
  },
  { additionalProperties: false, description: 'alerts staff snooze and silence', default: {} },
);
export type AlertsConfig = Static<typeof AlertsConfigSchema>;
