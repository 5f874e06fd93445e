/**
 * The `kpis` section of the gateway configuration: the replenishment target the accuracy KPI judges restocks by.
 * Defaults live here, in the schema, and nowhere else. Pure: TypeBox and plain data only.
 */
import { Type, type Static } from 'typebox';

/** also the kpis module's when it is built without the config (tests) */
export const DEFAULT_REPLENISH_TARGET_MINUTES = 30;

export const KpisConfigSchema = Type.Object(
  {
    replenishTargetMinutes: Type.Integer({
      minimum: 1,
      maximum: 1440,
      description: 'a low-stock alert answered by a restock within this many minutes counts as replenished on time (the accuracy KPI)',
      default: DEFAULT_REPLENISH_TARGET_MINUTES,
    }),
  },
  { additionalProperties: false, description: 'store KPIs on /api/kpis', default: {} },
);
export type KpisConfig = Static<typeof KpisConfigSchema>;
