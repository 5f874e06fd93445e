/** The events the stock room publishes on the gateway bus (see edge/core/events.ts). */
import type { FacingStockChange, SensorFaultChange, StockLevelSignal } from './stock-events.js';

declare module '../core/events.js' {
  interface GatewayEvents {
    /** what a person would see of a facing changed: its units or source (`cause: 'quantity'`) or its debounced level (`'level'`) */
    'stock.changed': FacingStockChange;
    /** a facing's low/ok level held for the debounce time (also when it confirms the level the facing had) */
    'stock.level': StockLevelSignal;
    /** a facing's load cell started or stopped sending impossible readings */
    'stock.sensor-fault': SensorFaultChange;
  }
}
