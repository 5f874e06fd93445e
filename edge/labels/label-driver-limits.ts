/**
 * The limits of each label driver, with their defaults (`default:`), declared once as TypeBox schemas: the labels room
 * builds drivers from `configDefaults(schema)` and the few `labels.drivers` options of the gateway config, tests from
 * `configDefaults(schema)` and what they change. Only a handful are gateway options (labels-config.ts); the rest are
 * tuned to the devices' firmware and documented here. Pure: TypeBox only.
 */
import { Type, type Static } from 'typebox';
import { AP_MAX_BATCH_ITEMS } from '../device-registry/schemas.js';

const ms = (defaultMs: number, description?: string) =>
  Type.Integer({ minimum: 0, maximum: 7 * 86_400_000, default: defaultMs, ...(description ? { description } : {}) });
const count = (defaultCount: number, description?: string) =>
  Type.Integer({ minimum: 0, maximum: 10_000_000, default: defaultCount, ...(description ? { description } : {}) });

/** One OpenEPaperLink access point (oepl-driver.ts); the firmware references are OpenEPaperLink's sources. */
export const OeplDriverLimitsSchema = Type.Object(
  {
    requestsPerSecond: Type.Number({
      exclusiveMinimum: 0,
      maximum: 1_000,
      default: 5,
      description: 'every HTTP request to the AP (uploads, LED commands, look-ups) shares this budget',
    }),
    requestTimeoutMs: ms(5_000),
    maxQueuedLabels: count(20_000, 'labels with content waiting to be uploaded; past this `send()` fails at once (retryable)'),
    maxTrackedTags: count(20_000, 'tags the driver remembers (records, what they show); idle ones are forgotten first'),
    maxQueuedFlashes: count(1_000),
    busyPauseMs: ms(1_000, 'pause after a 409, doubled per consecutive busy answer'),
    maxBusyRetries: count(8),
    maxXferResends: count(3, 'uploads again after "xfer timeout", then fails (retryable)'),
    maxUnreachableRetries: count(5),
    confirmTimeoutMs: ms(
      10 * 60_000,
      'without a confirming record by then: `waiting` if the tag was not seen since the upload, else failed',
    ),
    heartbeatTimeoutMs: ms(60_000, 'no frame (the AP sends `sys` every few seconds) for this long: the link is dead, reconnect'),
    reconnectInitialMs: ms(500),
    reconnectMaxMs: ms(30_000),
    rebootGraceMs: ms(
      10_000,
      'after REBOOTING the AP stays up a few seconds (saving its DB); reconnecting before then only finds it dying',
    ),
    /**
     * Battery: to the firmware any websocket client is an open web UI, and with `stopsleep` 1 (its default) it then
     * sends no idle requests and every data-avail says "check in again at once" (contentmanager.cpp:68-90,
     * newproto.cpp:166): every tag behind the AP stays awake. So the websocket is held only while uploads or flashes
     * are queued or uploads await confirmation, and closed once nothing has been in flight for this long.
     */
    idleCloseMs: ms(10_000, 'the websocket is closed once nothing has been in flight this long (an open one keeps tags awake)'),
    idlePollMs: ms(60_000, 'while the websocket is closed: the tag table is read with `GET /get_db?pos=` this often'),
    maxPollPages: count(64, 'pages of `/get_db` read per idle poll (about 10 tags a page; the firmware position is 8 bits)'),
    maxPollLookups: count(100, '`GET /get_db?mac=` per idle poll for uploads still waiting for their tag'),
    firmwareRecheckMs: ms(10 * 60_000, 'an AP with unsupported firmware is asked again this often (someone may have updated it)'),
    ttlMinutes: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 65_535,
        description: '`ttl` form field: minutes the AP keeps the content before re-rendering; absent leaves the AP default',
      }),
    ),
  },
  { additionalProperties: false },
);
export type OeplDriverLimits = Static<typeof OeplDriverLimitsSchema>;

/** One MQTT access point (mqtt-ap-driver.ts, docs/device-contract.md "ESL access points"). */
export const MqttApDriverLimitsSchema = Type.Object(
  {
    maxBatchSize: Type.Integer({
      minimum: 1,
      maximum: AP_MAX_BATCH_ITEMS,
      default: 50,
      description: "label commands per batch (at most the contract's AP_MAX_BATCH_ITEMS)",
    }),
    maxCommandsPerSecond: count(200, 'the per-AP rate limit: label commands (content and flashes) handed to the AP per second'),
    maxInFlight: count(500, 'label commands sent and not yet acked by the AP; none is sent past it'),
    ackTimeoutMs: ms(10_000, 'how long the AP has to ack a label command (shown, queued or failed)'),
    maxWaitingMs: ms(24 * 3_600_000, 'how long a command may wait at the AP for its label to check in before it counts as failed'),
    maxQueued: count(10_000, 'labels with content or a flash queued here; past it a send fails at once (retryable)'),
    offlineQueueTimeoutMs: ms(10 * 60_000, 'queued content given up (retryable) after the AP has been offline this long'),
    maxLabels: count(10_000, 'labels this driver keeps track of (carried by the AP: reported, configured or sent to)'),
    tickMs: ms(50, 'how often the queue is flushed and deadlines are checked'),
    settleMs: ms(
      250,
      'after the AP (re)connects, no batch until it subscribed to its command topic or this long passed ' +
        '(an AP with a persistent session keeps its subscription and sends no SUBSCRIBE)',
    ),
  },
  { additionalProperties: false },
);
export type MqttApDriverLimits = Static<typeof MqttApDriverLimitsSchema>;

/** The direct MQTT labels (mqtt-label-driver.ts). */
export const MqttLabelDriverLimitsSchema = Type.Object(
  {
    ackTimeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 3_600_000, description: "absent: the command channel's" })),
    maxInFlight: count(200, 'commands in flight over all labels; more wait in the queue'),
    maxLabels: count(10_000, 'labels with queued or waiting content; past it a send fails at once (retryable)'),
  },
  { additionalProperties: false },
);
export type MqttLabelDriverLimits = Static<typeof MqttLabelDriverLimitsSchema>;
