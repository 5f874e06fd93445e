/**
 * The `labels` section of the gateway configuration: the OpenEPaperLink access points to drive, when a label counts
 * as offline or its battery as low, and the drivers' defaults. Pure: TypeBox only.
 */
import { Type, type Static } from 'typebox';

export const OeplAccessPointSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$', description: 'shown as the driver id `oepl:<name>`' }),
    url: Type.String({
      pattern: '^https?://',
      maxLength: 512,
      description: 'the AP web interface, e.g. http://10.20.1.5 (keep it on an isolated VLAN: it has no authentication)',
    }),
    macs: Type.Optional(
      Type.Array(Type.String({ pattern: '^[0-9A-Fa-f]{12}([0-9A-Fa-f]{4})?$' }), {
        maxItems: 20_000,
        description: 'the tags this AP serves; absent: every tag the AP reports',
      }),
    ),
    setTime: Type.Optional(
      Type.Boolean({
        description:
          'POST /set_time with the gateway clock when the AP reports no time (no NTP on its VLAN; firmware 2.60 or later); ' +
          'prices confirm either way, this makes the AP UI times right',
      }),
    ),
  },
  { additionalProperties: false },
);

export const LabelsConfigSchema = Type.Object(
  {
    accessPoints: Type.Array(OeplAccessPointSchema, {
      maxItems: 64,
      description: 'OpenEPaperLink access points (HTTP + websocket)',
      default: [],
    }),
    health: Type.Object(
      {
        checkInIntervalMs: Type.Integer({
          minimum: 100,
          maximum: 86_400_000,
          description: 'how often a label is expected to check in',
          default: 300_000,
        }),
        missedCheckIns: Type.Integer({
          minimum: 1,
          maximum: 1_000,
          description: 'a label that missed this many check-ins in a row is offline (label-offline alert)',
          default: 3,
        }),
        lowBatteryMv: Type.Integer({
          minimum: 0,
          maximum: 10_000,
          description: 'a battery below this opens a label-battery-low alert (OpenEPaperLink counts 2400 as low)',
          default: 2400,
        }),
        checkEveryMs: Type.Integer({
          minimum: 50,
          maximum: 3_600_000,
          description: 'how often label health is evaluated',
          default: 30_000,
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    drivers: Type.Object(
      {
        maxLabels: Type.Integer({
          minimum: 1,
          maximum: 1_000_000,
          description: 'labels tracked by the labels room (bound or seen); more are ignored',
          default: 100_000,
        }),
        // each AP driver subscribes to device.connection itself, and the event bus allows 100 subscribers per event
        maxAccessPoints: Type.Integer({
          minimum: 1,
          maximum: 64,
          description: 'MQTT access points (device kind `ap`) given a driver; more are logged and not driven',
          default: 32,
        }),
        mqttMaxInFlight: Type.Integer({
          minimum: 1,
          maximum: 100_000,
          description: 'direct MQTT labels: commands in flight over all labels',
          default: 200,
        }),
        apMaxCommandsPerSecond: Type.Integer({
          minimum: 1,
          maximum: 100_000,
          description: 'per MQTT access point: label commands handed to it per second',
          default: 200,
        }),
        oeplRequestsPerSecond: Type.Number({
          exclusiveMinimum: 0,
          maximum: 1_000,
          description: 'per OpenEPaperLink AP: HTTP requests per second',
          default: 5,
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    campaigns: Type.Object(
      {
        sendsPerSecondPerDriver: Type.Integer({
          minimum: 1,
          maximum: 100_000,
          description:
            'price campaigns: label commands handed to one driver (an access point, the direct MQTT labels) per second; ' +
            'the radio side is slow and shared',
          default: 200,
        }),
        ackTimeoutMs: Type.Integer({
          minimum: 1_000,
          maximum: 3_600_000,
          description: 'a label command not answered (confirmed, waiting or failed) in this long is retried',
          default: 30_000,
        }),
        waitingTimeoutMs: Type.Integer({
          minimum: 60_000,
          maximum: 7 * 86_400_000,
          description: 'a label not seen for this long after its price was queued counts as failed',
          default: 21_600_000,
        }),
        maxLabelsPerCampaign: Type.Integer({
          minimum: 1,
          maximum: 1_000_000,
          description: 'labels one campaign may reach; a bigger campaign is refused',
          default: 100_000,
        }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);

export type LabelsConfig = Static<typeof LabelsConfigSchema>;
export type LabelHealthThresholds = LabelsConfig['health'];
