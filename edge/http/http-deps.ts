import type { Logger } from 'pino';
import type { AlertService } from '../alerts/alert-service.js';
import type { DeviceRegistry } from '../devices/device-registry.js';
import type { GatewayEvents } from '../gateway-events.js';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import type { ShelfStockBook } from '../stock/shelf-stock-book.js';

export type HealthReport = {
  status: 'ok' | 'degraded';
  storeId: string;
  uptimeS: number;
  checks: {
    storage: { ok: boolean; error?: string; pendingWrites: number };
    broker: { ok: boolean; connectedDevices: number };
  };
};

/** Everything the HTTP layer reads or changes, passed in by the composition root. */
export type HttpDeps = {
  storeId: string;
  apiToken: string | null;
  bodyLimitBytes: number;
  maxSseClients: number;
  staticDir: string;
  log: Logger;
  alerts: AlertService;
  stock: ShelfStockBook;
  devices: DeviceRegistry;
  isConnected: (deviceId: string) => boolean;
  health: () => HealthReport;
  metrics: GatewayMetrics;
  events: GatewayEvents;
  /** SSE keep-alive comment interval */
  ssePingMs?: number;
};
