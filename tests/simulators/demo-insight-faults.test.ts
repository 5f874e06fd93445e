/**
 * Issue 24, "the demo shows each new alert kind within a few minutes": the demo's store (config/planogram.demo.yaml,
 * its insight faults, its checkout walk) runs in virtual time against a test broker; what its devices sent — every
 * load cell reading and kiosk sale, at the devices' clock — goes through the gateway's own stock pipeline and insight
 * engine with config/demo.yaml's insight settings. Each kind must open on its fault's facing within minutes of the
 * fault, and no healthy sku may look phantom.
 */
import { storeTimeZoneOf } from '../../edge/config/store-time-zone.js';
import { pino } from 'pino';
import { VirtualTimeScheduler } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceCredential } from '../../devices/credentials-file.js';
import { DEMO_CHECKOUT_DELAY_MS, DEMO_INSIGHT_FAULTS } from '../../devices/demo-insight-faults.js';
import { seededRandom } from '../../devices/random.js';
import { StoreSimulation, demoDeviceIds } from '../../devices/store-simulation.js';
import { loadConfig } from '../../edge/config/load-config.js';
import type { DeviceMessage } from '../../edge/device-registry/messages.js';
import { InsightEngine, type InsightDecision } from '../../edge/insight/insight-engine.js';
import { insightEngineOptions, insightSettings } from '../../edge/insight/module.js';
import { loadPlanogramFile } from '../../edge/planogram/planogram-file.js';
import { PlanogramIndex } from '../../edge/planogram/planogram.js';
import { StockPipeline } from '../../edge/stock/stock-pipeline.js';
import { ManualTimers } from './manual-timers.js';
import { TestBroker, eventually } from './mqtt-test-broker.js';

const DEMO_PLANOGRAM = new URL('../../config/planogram.demo.yaml', import.meta.url).pathname;
const DEMO_CONFIG = new URL('../../config/demo.yaml', import.meta.url).pathname;
const SECOND = 1_000;
const MINUTE = 60 * SECOND;
/** virtual time the demo runs: the blocked facing's block (2.5 min in) and a few minutes more */
const RUN_MS = 9 * MINUTE;

type Opened = { kind: string; key: string; sku: string; atMs: number };

describe("the demo's insight faults", () => {
  let broker: TestBroker | undefined;
  let simulation: StoreSimulation | undefined;

  afterEach(async () => {
    await simulation?.stop();
    simulation = undefined;
    await broker?.close();
    broker = undefined;
  });

  // nine virtual minutes in 1 s steps, each waiting for MQTT on real time: seconds, more on a loaded machine
  it(
    'open phantom-stock, scale-stuck, stock-out-predicted (before low stock) and no-sales on their facings within minutes',
    {
      timeout: 120_000,
    },
    async () => {
      const planogram = await loadPlanogramFile(DEMO_PLANOGRAM);
      const config = await loadConfig({ file: DEMO_CONFIG, env: {} });
      const credentials: DeviceCredential[] = demoDeviceIds(planogram).map(({ deviceId, kind }) => ({
        deviceId,
        kind,
        secret: `secret-of-${deviceId}`,
      }));
      broker = await TestBroker.start(Object.fromEntries(credentials.map((c) => [c.deviceId, c.secret])));
      const timers = new ManualTimers();
      simulation = new StoreSimulation({
        brokerUrl: broker.url,
        storeId: 'demo-store',
        planogram,
        credentials,
        logger: pino({ level: 'silent' }),
        random: seededRandom(7),
        timers,
        clock: timers.clock,
        timing: { checkoutDelayMs: DEMO_CHECKOUT_DELAY_MS },
        insightFaults: DEMO_INSIGHT_FAULTS,
        // the demo's kiosks page staff now and then; not what this test looks at
        weightMismatchProbability: 0,
        assistProbability: 0,
      });
      const startedAt = timers.now;
      await simulation.start();
      for (let elapsed = 0; elapsed < RUN_MS; elapsed += SECOND) {
        await timers.advance(SECOND);
        // the kiosks' QoS 1 events wait for their PUBACKs on real time
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      const lastReportAt = timers.now;
      const reported = () => broker?.from('shelf-04', 'shelf/weight').some((m) => m.payload.ts === lastReportAt) === true;
      await eventually(reported, 10_000, 'the last report');
      await simulation.stop();
      simulation = undefined;

      const opened = replayThroughGateway(broker.messages, planogram, config, startedAt);
      const at = (ref: string) => {
        const [shelfId, facing] = ref.split('/') as [string, string];
        return planogram.facings.find((f) => f.shelfId === shelfId && f.facing === Number(facing))?.sku as string;
      };
      const first = (kind: string, key: string) => opened.alerts.find((o) => o.kind === kind && o.key === key)?.atMs;
      const { misplaced, stuck, fast, blocked } = DEMO_INSIGHT_FAULTS;

      const phantomAt = first('phantom-stock', `phantom-stock:${at(misplaced.facing)}`);
      expect(phantomAt, 'phantom-stock for the misplaced product').toBeDefined();
      // at its first kiosk sale (a walk after the first take from the second placement, and the kiosk's queue)
      expect(phantomAt).toBe(opened.firstSaleAt.get(at(misplaced.facing)));
      expect(phantomAt as number).toBeLessThanOrEqual(misplaced.fromMs + misplaced.sellEveryMs + 2 * MINUTE);

      const stuckAt = first('scale-stuck', `scale-stuck:${stuck.facing}`);
      expect(stuckAt, 'scale-stuck for the stuck cell').toBeDefined();
      expect((stuckAt as number) - stuck.fromMs).toBeLessThanOrEqual(2 * MINUTE);

      const predictedAt = first('stock-out-predicted', `stock-out-predicted:${fast.facing}`);
      expect(predictedAt, 'stock-out-predicted for the fast seller').toBeDefined();
      expect(predictedAt as number).toBeLessThanOrEqual(5 * MINUTE);
      const lowAt = opened.lowAt.get(fast.facing);
      expect(lowAt, 'the fast seller runs low in the run').toBeDefined();
      expect(predictedAt as number).toBeLessThan(lowAt as number);

      const noSalesAt = first('no-sales', `no-sales:${blocked.facing}`);
      expect(noSalesAt, 'no-sales for the blocked facing').toBeDefined();
      expect((noSalesAt as number) - blocked.fromMs).toBeGreaterThan(0);
      expect((noSalesAt as number) - blocked.fromMs).toBeLessThanOrEqual(5 * MINUTE);

      // the stuck cell's sku sells while its shelf shows nothing leave: phantom too; every other sku's sales are explained
      const phantomSkus = opened.alerts.filter((o) => o.kind === 'phantom-stock').map((o) => o.sku);
      expect(new Set(phantomSkus)).toEqual(new Set([at(misplaced.facing), at(stuck.facing)]));
      expect(opened.kioskSales).toBeGreaterThan(50);
    },
  );
});

/**
 * The devices' messages in the order of their clocks through the stock room's pipeline and the insight engine, as the
 * gateway wires them (edge/stock/module.ts, edge/insight/module.ts), with the pipeline's timers and the engine's look on
 * the same virtual clock. Returns each alert's opening (ms from the start), when each facing first ran low and each sku's first kiosk sale.
 */
function replayThroughGateway(
  captured: readonly { deviceId: string; key: string; payload: Record<string, unknown> }[],
  planogram: Awaited<ReturnType<typeof loadPlanogramFile>>,
  config: Awaited<ReturnType<typeof loadConfig>>,
  startedAt: number,
) {
  const index = new PlanogramIndex(planogram);
  const settings = insightSettings(config.insight, storeTimeZoneOf(config));
  const engine = new InsightEngine(
    planogram.facings.map((f) => ({
      ...f,
      name: index.product(f.sku)?.name ?? f.sku,
      unitWeightG: index.product(f.sku)?.unitWeightG as number,
    })),
    insightEngineOptions(settings),
  );
  const alerts: Opened[] = [];
  const lowAt = new Map<string, number>();
  const act = (decisions: readonly InsightDecision[], at: number) => {
    for (const d of decisions) {
      const kind =
        d.type === 'prediction-open'
          ? 'stock-out-predicted'
          : d.type === 'phantom-open'
            ? 'phantom-stock'
            : d.type === 'no-sales-open'
              ? 'no-sales'
              : d.type === 'scale-stuck-open'
                ? 'scale-stuck'
                : undefined;
      if (kind === undefined || !('alert' in d)) continue;
      alerts.push({ kind, key: d.alert.key, sku: d.alert.sku, atMs: at - startedAt });
    }
  };
  const scheduler = new VirtualTimeScheduler();
  scheduler.frame = startedAt;
  const pipeline = new StockPipeline({
    planogram: index,
    options: config.lowStock,
    scheduler,
    initialStock: () => undefined,
    initialLevel: () => undefined,
    onUnknownFacing: () => undefined,
    initialSensorFault: () => false,
    onImplausibleReading: () => undefined,
  });
  pipeline.start((output) => {
    if (output.type === 'signal' && output.signal.level === 'low') {
      const key = `${output.signal.shelfId}/${output.signal.facing}`;
      if (!lowAt.has(key)) lowAt.set(key, output.signal.at - startedAt);
    }
    // the insight module's stock.changed: a quantity from the load cell
    if (output.type === 'quantity' && output.quantity.source === 'weight') {
      const { shelfId, facing, units, at } = output.quantity;
      act(engine.facingUnits(shelfId, facing, units, at), at);
    }
  });
  const messages = captured
    .filter((m) => m.key === 'shelf/weight' || (m.key === 'kiosk/event' && m.payload.type === 'item-scanned'))
    .map((m) => ({ ...m, ts: m.payload.ts as number }))
    .sort((a, b) => a.ts - b.ts);
  let nextTick = startedAt + settings.tickMs;
  let kioskSales = 0;
  const firstSaleAt = new Map<string, number>();
  for (const m of messages) {
    for (; nextTick <= m.ts; nextTick += settings.tickMs) {
      scheduler.maxFrames = nextTick;
      scheduler.flush();
      scheduler.frame = nextTick;
      act(engine.tick(nextTick), nextTick);
    }
    scheduler.maxFrames = m.ts;
    scheduler.flush();
    scheduler.frame = Math.max(scheduler.frame, m.ts);
    const message = { key: m.key, deviceId: m.deviceId, payload: m.payload, receivedAt: m.ts } as DeviceMessage;
    pipeline.push(message);
    if (message.key === 'shelf/weight') {
      const { facing, weightG } = message.payload;
      const change = engine.scaleReading(message.deviceId, facing, weightG, m.ts);
      if (change === 1)
        alerts.push({ kind: 'scale-stuck', key: `scale-stuck:${message.deviceId}/${facing}`, sku: '', atMs: m.ts - startedAt });
    } else if (message.key === 'kiosk/event') {
      kioskSales++;
      if (!firstSaleAt.has(message.payload.sku as string)) firstSaleAt.set(message.payload.sku as string, m.ts - startedAt);
      act(engine.sale(message.payload.sku as string, message.payload.qty ?? 1, m.ts), m.ts);
    }
  }
  pipeline.stop();
  return { alerts, lowAt, kioskSales, firstSaleAt };
}
