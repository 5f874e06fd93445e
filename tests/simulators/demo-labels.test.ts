/**
 * The demo's labels fit together: config/demo.yaml loads with its OpenEPaperLink AP, the demo planogram's labels
 * section validates and gives every facing one label, 8 per carrier; the direct labels are the ones the store
 * simulation binds to the same facings; the OEPL macs are the simulated AP's tags; a price the OEPL driver draws is
 * the price shoppers pay.
 */
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../edge/config/load-config.js';
import { oeplPriceCommands } from '../../edge/labels/oepl-rules.js';
import { loadPlanogramFile, parsePlanogramLabels, readPlanogramText } from '../../edge/planogram/planogram-file.js';
import { PlanogramIndex } from '../../edge/planogram/planogram.js';
import { DEMO_AP_ID, DemoAccessPoints, DemoLabelsError, oeplShownPriceCents, planDemoLabels } from '../../devices/demo-labels.js';
import { seededRandom } from '../../devices/random.js';
import { bindLabelsToFacings, demoDeviceIds } from '../../devices/store-simulation.js';

const CONFIG_DIR = fileURLToPath(new URL('../../config/', import.meta.url));
const PLANOGRAM = `${CONFIG_DIR}planogram.demo.yaml`;
const silent = pino({ level: 'silent' });

async function demoPlan() {
  const planogram = await loadPlanogramFile(PLANOGRAM);
  const index = new PlanogramIndex(planogram);
  const entries = parsePlanogramLabels(await readPlanogramText(PLANOGRAM), PLANOGRAM);
  return { planogram, index, entries, plan: planDemoLabels(entries, index) };
}

describe('the demo labels', () => {
  it('config/demo.yaml loads and names the simulated OpenEPaperLink AP', async () => {
    const config = await loadConfig({ file: `${CONFIG_DIR}demo.yaml`, env: {} });
    expect(config.labels.accessPoints).toEqual([{ name: 'demo-oepl', url: 'http://127.0.0.1:4842' }]);
    expect(config.labels.health.checkInIntervalMs).toBe(40_000);
  });

  it('the planogram binds one label to each of the 24 facings, 8 per carrier', async () => {
    const { planogram, entries, plan } = await demoPlan();
    expect(entries).toHaveLength(24);
    expect(new Set(entries.map((entry) => `${entry.shelfId}/${entry.facing}`))).toEqual(
      new Set(planogram.facings.map((plan) => `${plan.shelfId}/${plan.facing}`)),
    );
    expect([plan.direct.length, plan.behindMqttAp.length, plan.behindOepl.length]).toEqual([8, 8, 8]);
  });

  it('each direct label is simulated on the facing the gateway binds it to, and the demo provisions one access point', async () => {
    const { planogram, plan } = await demoPlan();
    const simulated = bindLabelsToFacings(
      planogram,
      plan.direct.map((label) => label.label),
    );
    expect(simulated.map(({ deviceId, shelfId, facing, sku }) => ({ label: deviceId, shelfId, facing, sku }))).toEqual(plan.direct);
    const devices = demoDeviceIds(planogram, undefined, [
      ...plan.direct.map((label) => ({ deviceId: label.label, kind: 'esl' as const })),
      { deviceId: DEMO_AP_ID, kind: 'ap' },
    ]);
    expect(devices.filter((device) => device.kind === 'esl')).toHaveLength(8);
    expect(devices.filter((device) => device.kind === 'ap')).toEqual([{ deviceId: DEMO_AP_ID, kind: 'ap' }]);
  });

  it("the OEPL labels are the simulated AP's tags; a mac it does not serve is refused with the macs it does", async () => {
    const { index, plan } = await demoPlan();
    const options = { priceOf: () => 100, oeplUrl: 'http://127.0.0.1:4842', logger: silent, random: seededRandom(1) };
    const accessPoints = new DemoAccessPoints({ ...options, plan });
    expect(plan.behindOepl.every((label) => accessPoints.oepl?.macs.includes(label.label))).toBe(true);
    const stray = {
      ...plan,
      behindOepl: [...plan.behindOepl, { label: 'AABBCCDDEEFF', shelfId: 'shelf-01', facing: 1, sku: index.facing('shelf-01', 1)!.sku }],
    };
    expect(() => new DemoAccessPoints({ ...options, plan: stray })).toThrow(DemoLabelsError);
    expect(() => new DemoAccessPoints({ ...options, plan, oeplUrl: null })).toThrow(/no labels.accessPoints entry/);
  });

  it('reads the price an OEPL tag shows from the drawing the driver uploads', () => {
    expect(
      oeplShownPriceCents(
        JSON.stringify(oeplPriceCommands({ productName: 'Toilet paper 8 rolls', sku: '4021170792447', priceCents: 1205 })),
      ),
    ).toBe(1205);
    expect(oeplShownPriceCents(null)).toBeUndefined();
    expect(oeplShownPriceCents('not json')).toBeUndefined();
  });
});
