/**
 * An OpenEPaperLink AP running firmware before 2.60 (no `updatecount`/`updatelast` in its tag records) behind a
 * running gateway: GET /api/labels shows its labels, their batteries and check-ins, and the reason nothing is driven.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OeplApSimulator } from '../../devices/oepl-ap-simulator.js';
import { seededRandom } from '../../devices/random.js';
import type { LabelView } from '../../edge/labels/label-routes.js';
import { TEST_PLANOGRAM, eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const log = pino({ level: 'silent' });

describe('an OpenEPaperLink AP with unsupported firmware on /api/labels', () => {
  let gw: TestGateway;
  let oepl: OeplApSimulator;

  beforeAll(async () => {
    oepl = new OeplApSimulator({
      tagCount: 2,
      logger: log,
      random: seededRandom(5),
      checkInIntervalMs: 200,
      renderDelayMs: 20,
      sysIntervalMs: 100,
      bootDelayMs: 50,
      buildVersion: '2.55',
    });
    await oepl.start();
    gw = await startTestGateway({
      planogram: { ...TEST_PLANOGRAM, labels: [{ label: oepl.macs[0]!, shelfId: 'shelf-a', facing: 1 }] },
      overrides: {
        labels: {
          accessPoints: [{ name: 'old-ap', url: oepl.url }],
          health: { checkInIntervalMs: 1_000, missedCheckIns: 3, lowBatteryMv: 2_400, checkEveryMs: 100 },
        },
      },
    });
  }, 20_000);

  afterAll(async () => {
    await gw?.dispose();
    await oepl?.stop();
  });

  it('shows the label with its battery and check-in, its driver down as "unsupported firmware 2.55"', async () => {
    const label = await eventually(
      async () => {
        const response = await gw.api('/api/labels');
        expect(response.status).toBe(200);
        const body = (await response.json()) as { labels: LabelView[] };
        const found = body.labels.find((entry) => entry.labelId === oepl.macs[0]);
        return (found?.lastSeenAt ?? null) !== null && found?.driverLinkDetail !== null ? found : undefined;
      },
      8_000,
      'the label on an unsupported AP to show up with its driver state',
    );
    expect(label).toMatchObject({ driverId: 'oepl:old-ap', driverLinkUp: false, shelfId: 'shelf-a', facing: 1 });
    expect(label.driverLinkDetail).toBe('unsupported firmware 2.55: OpenEPaperLink 2.60 or later needed');
    expect(label.batteryMv).toBeGreaterThan(2_400);
    const health = (await (await gw.api('/api/health')).json()) as unknown;
    expect(JSON.stringify(health)).toContain('unsupported firmware 2.55');
  });
});
