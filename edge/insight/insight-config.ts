/**
 * The `insight` section of the gateway configuration: the store's restock lead time, the availability buffer and
 * coalescing, the engine's periodic look and the store's time zone. Defaults live here, in the schema, and nowhere
 * else. Pure: TypeBox and plain data only.
 */
import { Type, type Static } from 'typebox';
import { Nullable } from '../core/schema.js';

export const InsightConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({
      description: 'predicted stock-outs, phantom stock, the pick list and availability for online orders',
      default: true,
    }),
    restockLeadTimeMin: Type.Integer({
      minimum: 1,
      maximum: 1440,
      description: 'minutes from an alert to the facing refilled: a stock-out-predicted alert comes at least this long ahead',
      default: 30,
    }),
    availabilitySafetyUnits: Type.Integer({
      minimum: 0,
      maximum: 10000,
      description: "units of a sku kept back from HQ's online shop, so 'in stock at this store' never oversells",
      default: 2,
    }),
    availabilityCoalesceSec: Type.Integer({
      minimum: 1,
      maximum: 3600,
      description: 'a busy sku sends HQ at most one availability change this often (the latest one)',
      default: 5,
    }),
    tickSec: Type.Integer({
      minimum: 1,
      maximum: 3600,
      description: 'how often quiet facings are looked at again (a prediction follows the clock, not only the readings)',
      default: 300,
    }),
    minWatchMin: Type.Integer({
      minimum: 1,
      maximum: 1440,
      description: "minutes a facing's sales are watched before its rate is trusted: a stock-out prediction waits for them",
      default: 20,
    }),
    noSalesBeforeTrafficKnown: Type.Boolean({
      description:
        "judge a facing's silence as if every hour were as busy until the store's traffic by hour of day is learned (a " +
        'day): for a demo, or a store open around the clock; false: no no-sales warning in the first day',
      default: false,
    }),
    timeZone: Nullable(
      Type.String({
        minLength: 1,
        maxLength: 64,
        pattern: '^[A-Za-z][A-Za-z0-9_+/-]*$',
        description: 'deprecated: the old place of store.timeZone, read while store.timeZone is null (move it there)',
        default: null,
      }),
    ),
  },
  {
    additionalProperties: false,
    description: 'store insight: stock-outs predicted before they happen, phantom stock, the pick list, availability for HQ',
    default: {},
  },
);
export type InsightConfig = Static<typeof InsightConfigSchema>;
