import type { FacingStockView } from './shelf-stock-book.js';
import type { StockLevel } from './stock.js';

/**
 * `stock.changed`: the facing as staff see it now, and what changed — its quantity, or its debounced level. With
 * the units it had before (null or absent when unknown), so a subscriber can tell a facing that just emptied.
 */
export type FacingStockChange = { view: FacingStockView; cause: 'quantity' | 'level'; previousUnits?: number | null };

/**
 * `stock.sensor-fault`: a facing's load cell started (`faulty`) or stopped sending impossible readings (see
 * plausible-weight.ts); `weightG` is the reading that changed it.
 */
export type SensorFaultChange = { shelfId: string; facing: number; sku: string; faulty: boolean; weightG: number; at: number };

/**
 * `stock.level`: a facing's level held for the debounce time (hysteresis applied) — every such signal, also one that
 * confirms the level the facing already had (after a restart). What the low-stock alert policy acts on.
 */
export type StockLevelSignal = { view: FacingStockView; level: StockLevel; units: number; at: number };
