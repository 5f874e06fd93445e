/**
 * Every label driver the labels room can build, keyed by driver type: how a driver of the type is made from its own
 * settings and the room's dependencies. Adding a driver type is one entry here (and the room deciding when to build
 * one: at start for configured ones, on connection for MQTT access points).
 */
import type { Logger } from 'pino';
import type { GatewayBus } from '../core/events.js';
import { configDefaults } from '../core/schema-defaults.js';
import type { LabelDriver } from './label-driver.js';
import { MqttApDriverLimitsSchema, MqttLabelDriverLimitsSchema, OeplDriverLimitsSchema } from './label-driver-limits.js';
import type { LabelsConfig } from './labels-config.js';
import { MqttApDriver, type MqttApDriverDeps } from './mqtt-ap-driver.js';
import { MqttLabelDriver, type MqttLabelDriverDeps } from './mqtt-label-driver.js';
import { OeplDriver } from './oepl-driver.js';

/** What the labels room hands every driver it builds. */
export type LabelDriverDeps = {
  config: LabelsConfig;
  bus: GatewayBus;
  /** the command channel: direct labels get commands through it, access points their batches */
  commands: MqttLabelDriverDeps['commands'] & MqttApDriverDeps['commands'];
  /** a registered device's kind (`esl`: a direct MQTT label) */
  deviceKind: (deviceId: string) => string | undefined;
  isConnected: (deviceId: string) => boolean;
  now: () => number;
  log: Logger;
};

/** An OpenEPaperLink access point as configured (`labels.accessPoints[]`). */
export type OeplAccessPointConfig = LabelsConfig['accessPoints'][number];

/** An MQTT access point that connected: its device id and the labels it carried before (to queue for them at once). */
export type MqttAccessPointConfig = { apId: string; labels: readonly string[] };

/** An MQTT access point's driver id is this and the AP's device id. */
export const MQTT_AP_DRIVER_PREFIX = 'mqtt-ap:';

export const LABEL_DRIVER_FACTORIES = {
  /** direct MQTT labels (device kind `esl`): one driver for all of them, through the command channel */
  'mqtt-esl': (_settings: Record<string, never>, deps: LabelDriverDeps): MqttLabelDriver =>
    new MqttLabelDriver(
      {
        ...configDefaults(MqttLabelDriverLimitsSchema),
        maxInFlight: deps.config.drivers.mqttMaxInFlight,
        maxLabels: deps.config.drivers.maxLabels,
      },
      {
        bus: deps.bus,
        commands: deps.commands,
        log: deps.log.child({ driver: 'mqtt-esl' }),
        now: deps.now,
        isDirectLabel: (id) => deps.deviceKind(id) === 'esl',
      },
    ),
  /** one MQTT access point (device kind `ap`): batches through the command channel, acks per label */
  'mqtt-ap': ({ apId, labels }: MqttAccessPointConfig, deps: LabelDriverDeps): MqttApDriver =>
    new MqttApDriver(
      {
        ...configDefaults(MqttApDriverLimitsSchema),
        apId,
        maxCommandsPerSecond: deps.config.drivers.apMaxCommandsPerSecond,
        maxLabels: deps.config.drivers.maxLabels,
      },
      {
        bus: deps.bus,
        commands: deps.commands,
        log: deps.log.child({ driver: `${MQTT_AP_DRIVER_PREFIX}${apId}` }),
        now: deps.now,
        isConnected: deps.isConnected,
        labels,
      },
    ),
  /** one OpenEPaperLink access point over HTTP + websocket */
  oepl: (ap: OeplAccessPointConfig, deps: LabelDriverDeps): OeplDriver => {
    const defaults = configDefaults(OeplDriverLimitsSchema);
    return new OeplDriver({
      baseUrl: ap.url,
      driverId: `oepl:${ap.name}`,
      log: deps.log,
      now: deps.now,
      // between websocket sessions the tag table is polled: at least as often as labels are expected to check in
      limits: {
        ...defaults,
        requestsPerSecond: deps.config.drivers.oeplRequestsPerSecond,
        idlePollMs: Math.min(defaults.idlePollMs, deps.config.health.checkInIntervalMs),
      },
      ...(ap.macs ? { macs: ap.macs } : {}),
      setApTime: ap.setTime ?? false,
    });
  },
} satisfies Record<string, (settings: never, deps: LabelDriverDeps) => LabelDriver>;

export type LabelDriverType = keyof typeof LABEL_DRIVER_FACTORIES;
