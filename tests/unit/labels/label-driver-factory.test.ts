import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { GatewayBus } from '../../../edge/core/events.js';
import { configDefaults } from '../../../edge/core/schema-defaults.js';
import { LABEL_DRIVER_FACTORIES, type LabelDriverDeps } from '../../../edge/labels/label-driver-factory.js';
import { LabelsConfigSchema } from '../../../edge/labels/labels-config.js';

/** Building a driver does no I/O (start() does): the table can be exercised with plain objects. */
function deps(): LabelDriverDeps {
  return {
    config: configDefaults(LabelsConfigSchema),
    bus: new GatewayBus({ onHandlerError: () => undefined }),
    commands: {
      send: () => Promise.reject(new Error('not in this test')),
      dispatch: () => ({ ok: false, reason: 'not-started' }),
    },
    deviceKind: (id) => (id.startsWith('esl-') ? 'esl' : undefined),
    isConnected: () => false,
    now: () => 0,
    log: pino({ level: 'silent' }),
  };
}

describe('label drivers from one table keyed by driver type', () => {
  it('each type builds its driver from its own settings and the room’s dependencies', () => {
    const shared = deps();
    const direct = LABEL_DRIVER_FACTORIES['mqtt-esl']({}, shared);
    expect(direct.driverId).toBe('mqtt-esl');
    expect([direct.handles('esl-1'), direct.handles('L1')]).toEqual([true, false]);
    expect(direct.health()).toMatchObject({ ok: false, inFlight: 0 });

    const ap = LABEL_DRIVER_FACTORIES['mqtt-ap']({ apId: 'ap-7', labels: ['L1'] }, shared);
    expect(ap.driverId).toBe('mqtt-ap:ap-7');
    expect([ap.handles('L1'), ap.handles('L2')]).toEqual([true, false]);

    const oepl = LABEL_DRIVER_FACTORIES.oepl({ name: 'aisle-3', url: 'http://10.20.1.5', macs: ['0000021EEC5C3B49'] }, shared);
    expect(oepl.driverId).toBe('oepl:aisle-3');
    expect([oepl.handles('0000021eec5c3b49'), oepl.handles('0000021EEC5C3B4A')]).toEqual([true, false]);
  });
});
