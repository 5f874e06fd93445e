/**
 * The synthetic store the benchmarks run against: store id, device ids, their secrets, planograms and payloads.
 * Everything is derived from ids, so the orchestrator, the broker process and the load workers agree without
 * passing secrets around.
 */
import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import { loadConfig } from '../edge/config/load-config.js';
import type { GatewayConfig } from '../edge/config/gateway-config.js';
import type { DeviceKind } from '../edge/device-registry/topics.js';

/** The gateway's admin token in the benchmarks (the live stream and every API route need one). */
export const BENCH_API_TOKEN = 'bench-token-0123456789abcdef';

export const STORE_ID = 'bench-store';

export function shelfId(index: number): string {
  return `shelf-${String(index).padStart(4, '0')}`;
}

export function eslId(index: number): string {
  return `esl-${String(index).padStart(6, '0')}`;
}

/** Deterministic per device: fine for a benchmark (production secrets are random and shown once). */
export function secretOf(deviceId: string): string {
  return `bench-secret-${deviceId}`;
}

export function topicOf(kind: DeviceKind, deviceId: string, channel: string): string {
  return `store/${STORE_ID}/${kind}/${deviceId}/${channel}`;
}

export const CAPACITY_UNITS = 20;
export const LOW_STOCK_UNITS = 4;
export const RESTOCK_UNITS = 10;
/** steady telemetry reports this many units on every facing: no stock change, no alert */
export const STEADY_UNITS = 15;

/** Weight of one unit of the product on facing `facing` (1-based) of any bench shelf, grams. */
export function unitWeightOf(facing: number): number {
  return 200 + ((facing - 1) % 10) * 100;
}

export type PlanogramDocument = {
  products: { sku: string; name: string; unitWeightG: number; priceCents: number }[];
  shelves: { id: string; facings: { facing: number; sku: string; capacityUnits: number; lowStockUnits: number; restockUnits: number }[] }[];
};

/**
 * `shelves` shelves × `facingsPerShelf` facings. With `productPerFacing` every facing has its own product (a big store
 * planogram); otherwise facing n of every shelf holds product n.
 */
export function benchPlanogram(shelfIds: readonly string[], facingsPerShelf: number, productPerFacing = false): PlanogramDocument {
  const products: PlanogramDocument['products'] = [];
  const skuOf = (shelfIndex: number, facing: number) =>
    productPerFacing ? `20${String(shelfIndex * 64 + facing).padStart(11, '0')}` : `21${String(facing).padStart(11, '0')}`;
  const addProduct = (sku: string, facing: number) =>
    products.push({ sku, name: `Bench product ${sku}`, unitWeightG: unitWeightOf(facing), priceCents: 99 + facing });
  if (!productPerFacing) for (let facing = 1; facing <= facingsPerShelf; facing++) addProduct(skuOf(0, facing), facing);
  const shelves = shelfIds.map((id, shelfIndex) => ({
    id,
    facings: Array.from({ length: facingsPerShelf }, (_, i) => {
      const facing = i + 1;
      const sku = skuOf(shelfIndex, facing);
      if (productPerFacing) addProduct(sku, facing);
      return { facing, sku, capacityUnits: CAPACITY_UNITS, lowStockUnits: LOW_STOCK_UNITS, restockUnits: RESTOCK_UNITS };
    }),
  }));
  return { products, shelves };
}

export async function writePlanogram(file: string, planogram: PlanogramDocument): Promise<void> {
  await writeFile(file, stringify(planogram));
}

/** A shelf/weight payload for `units` units on `facing`, with a few grams of load-cell jitter. */
export function weightPayload(facing: number, units: number, jitterG: number, ts: number): Buffer {
  const weightG = Math.round((units * unitWeightOf(facing) + jitterG) * 10) / 10;
  return Buffer.from(JSON.stringify({ facing, weightG, ts }));
}

export type BenchGatewaySettings = {
  dataDir: string;
  planogramFile: string | null;
  lowStock?: { smoothingWindow?: number; debounceMs?: number };
  maxConnections?: number;
};

/** The gateway configuration of every benchmark: production defaults except ports, paths, logging and scrypt cost. */
export function benchGatewayConfig(settings: BenchGatewaySettings): Promise<GatewayConfig> {
  return loadConfig({
    env: {},
    overrides: {
      storeId: STORE_ID,
      dataDir: settings.dataDir,
      log: { level: 'silent', pretty: false },
      // every load worker connects from 127.0.0.1: the per-address limits would measure themselves, not the broker
      mqtt: {
        host: '127.0.0.1',
        port: 0,
        maxConnections: settings.maxConnections ?? 5_000,
        maxConnectionsPerAddress: 100_000,
        maxConnectAttemptsPerAddressPerMinute: 1_000_000,
        // the benchmark's shelves publish as fast as the gateway takes them, far above a real shelf: the per-device
        // limit is lifted (its check still runs on every message and is measured)
        deviceRateLimit: { messagesPerSecond: 1_000_000, burst: 10_000_000, disconnectAfterMs: 3_600_000 },
      },
      http: { host: '127.0.0.1', port: 0, apiToken: BENCH_API_TOKEN },
      planogram: { file: settings.planogramFile },
      lowStock: settings.lowStock ?? {},
      security: { scryptCost: 1024 },
    },
  });
}
