import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type ConnectionRejectReason =
  | 'no-credentials'
  | 'bad-client-id'
  | 'unknown-device'
  | 'bad-secret'
  | 'client-id-mismatch'
  | 'keepalive'
  | 'too-many-failures'
  | 'disabled'
  | 'too-many-connections'
  | 'too-many-from-address'
  | 'too-many-attempts-from-address'
  | 'tls-handshake'
  | 'certificate-untrusted'
  | 'certificate-revoked'
  | 'certificate-mismatch'
  | 'packet-too-large'
  | 'connect-timeout'
  | 'protocol-error';
export type PublishRejectReason = 'acl' | 'not-authenticated';
export type InvalidMessageReason = 'bad-json' | 'schema' | 'unknown-channel' | 'unknown-facing';

/** One HTTP answer as the app's onResponse hook sees it. */
export type HttpRequestObservation = { method: string; routePattern: string | undefined; statusCode: number; durationMs: number };

/** What the campaign room reports to Prometheus; counters are totals since start. */
export type CampaignMetricsSnapshot = {
  campaignsByState: Record<string, number>;
  labels: { sent: number; confirmed: number; failed: number };
};

const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/** route × method × status class label sets: the gateway has some 60 routes, most answer two or three classes */
const MAX_HTTP_SERIES = 500;

/**
 * Every Prometheus metric of the gateway, in one registry per gateway (not the global one, so tests can run several).
 * Children of labelled counters used on the hot path are created once here, not looked up per message.
 */
export class GatewayMetrics {
  readonly registry = new Registry();

  private readonly connectionsRejected = new Counter({
    name: 'smartstore_mqtt_connections_rejected_total',
    help: 'MQTT connections refused, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly publishRejected = new Counter({
    name: 'smartstore_mqtt_publish_rejected_total',
    help: 'PUBLISH packets refused by the ACL',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly subscribeRejected = new Counter({
    name: 'smartstore_mqtt_subscribe_rejected_total',
    help: 'subscriptions refused by the ACL',
    registers: [this.registry],
  });
  readonly connectedDevices = new Gauge({
    name: 'smartstore_mqtt_connected_devices',
    help: 'devices connected to the embedded broker',
    registers: [this.registry],
  });
  /**
   * hot-path tallies, copied into their counters when Prometheus scrapes (a labelled inc() per message costs more than
   * the rest of the ingest)
   */
  private readonly acceptedTally = new Map<string, number>();
  private readonly messagesAccepted = new Counter({
    name: 'smartstore_device_messages_total',
    help: 'device messages accepted, by kind/channel',
    labelNames: ['channel'],
    registers: [this.registry],
    collect: () => {
      for (const [channel, count] of this.acceptedTally)
        this.messagesAccepted.labels(channel).inc(count - (this.acceptedReported.get(channel) ?? 0));
      for (const [channel, count] of this.acceptedTally) this.acceptedReported.set(channel, count);
    },
  });
  private readonly acceptedReported = new Map<string, number>();
  private readonly messagesInvalid = new Counter({
    name: 'smartstore_device_messages_invalid_total',
    help: 'device messages dropped as invalid, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly alertsOpened = new Counter({
    name: 'smartstore_alerts_opened_total',
    help: 'alerts opened, by kind',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly activeAlerts = new Gauge({
    name: 'smartstore_alerts_active',
    help: 'alerts not resolved yet',
    registers: [this.registry],
  });
  readonly storageFlushSeconds = new Histogram({
    name: 'smartstore_storage_flush_seconds',
    help: 'duration of one batched write transaction',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [this.registry],
  });
  readonly storageWriteErrors = new Counter({
    name: 'smartstore_storage_write_errors_total',
    help: 'batched write transactions that failed (disk full, read-only, locked)',
    registers: [this.registry],
  });
  readonly storagePendingWrites = new Gauge({
    name: 'smartstore_storage_pending_writes',
    help: 'state changes waiting to be written',
    registers: [this.registry],
  });
  readonly storageDroppedWrites = new Counter({
    name: 'smartstore_storage_dropped_writes_total',
    help: 'final states of resolved alerts given up because the write-behind queue was full (disk refusing writes)',
    registers: [this.registry],
  });
  readonly sensorImplausibleReadings = new Counter({
    name: 'smartstore_sensor_implausible_readings_total',
    help: 'shelf weight readings dropped as not a plausible weight for their facing (a faulty load cell)',
    registers: [this.registry],
  });
  readonly sseClients = new Gauge({
    name: 'smartstore_sse_clients',
    help: 'open live-event streams',
    registers: [this.registry],
  });
  readonly apiAccessDenied = new Counter({
    name: 'smartstore_api_access_denied_total',
    help: 'API requests refused: missing or invalid token, role too low, or rate-limited after failed authentications',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  private readonly invalidByReason = new Map<string, ReturnType<Counter<'reason'>['labels']>>();

  readonly eventHandlerErrors = new Counter({
    name: 'smartstore_event_handler_errors_total',
    help: 'event bus subscribers that threw, by subscriber (the event was still delivered to the others)',
    labelNames: ['handler'],
    registers: [this.registry],
  });
  readonly commandOutcomes = new Counter({
    name: 'smartstore_device_commands_total',
    help: 'commands to devices, by outcome (confirmed, rejected, timed-out, dropped)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });

  /** `channels`: every `<kind>/<channel>` a device may publish on, so each counter child exists (at 0) from the start */
  constructor(options: { channels: readonly string[]; defaultMetrics?: boolean }) {
    for (const key of options.channels) {
      this.acceptedTally.set(key, 0);
      this.messagesAccepted.labels(key).inc(0);
    }
    for (const outcome of ['confirmed', 'rejected', 'timed-out', 'dropped']) this.commandOutcomes.labels(outcome).inc(0);
    for (const reason of ['bad-json', 'schema', 'unknown-channel', 'unknown-facing']) {
      this.invalidByReason.set(reason, this.messagesInvalid.labels(reason));
    }
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'smartstore_' });
  }

  /** What the write-behind writer reports, as these metrics. */
  writerMetrics() {
    return {
      flushTimer: () => this.storageFlushSeconds.startTimer(),
      writeFailed: () => this.storageWriteErrors.inc(),
      pending: (count: number) => this.storagePendingWrites.set(count),
      dropped: () => this.storageDroppedWrites.inc(),
    };
  }

  messageAccepted(key: string): void {
    this.acceptedTally.set(key, (this.acceptedTally.get(key) ?? 0) + 1);
  }

  messageInvalid(reason: InvalidMessageReason): void {
    this.invalidByReason.get(reason)?.inc();
  }

  connectionRejected(reason: ConnectionRejectReason): void {
    this.connectionsRejected.labels(reason).inc();
  }

  publishRejectedFor(reason: PublishRejectReason): void {
    this.publishRejected.labels(reason).inc();
  }

  /**
   * PUBLISHes over a device's rate limit (edge/broker/message-rate-limit.ts): a flooding device sends them by the hundred
   * thousand a second, so they are tallied in plain numbers and copied into the counter when Prometheus scrapes.
   */
  private readonly rateLimitedTally = { qos0: 0, qos1: 0 };
  private readonly rateLimitedReported = { qos0: 0, qos1: 0 };
  private readonly messagesRateLimited = new Counter({
    name: 'smartstore_mqtt_messages_rate_limited_total',
    help: 'device PUBLISHes over the per-device rate limit, by QoS: QoS 0 dropped; QoS 1 and 2 refused by closing the connection',
    labelNames: ['qos'],
    registers: [this.registry],
    collect: () => {
      this.messagesRateLimited.labels('0').inc(this.rateLimitedTally.qos0 - this.rateLimitedReported.qos0);
      this.messagesRateLimited.labels('1').inc(this.rateLimitedTally.qos1 - this.rateLimitedReported.qos1);
      this.rateLimitedReported.qos0 = this.rateLimitedTally.qos0;
      this.rateLimitedReported.qos1 = this.rateLimitedTally.qos1;
    },
  });
  readonly rateLimitDisconnects = new Counter({
    name: 'smartstore_mqtt_rate_limit_disconnects_total',
    help: 'device connections closed for flooding: over the rate limit for mqtt.deviceRateLimit.disconnectAfterMs',
    registers: [this.registry],
  });

  /** One PUBLISH over its device's rate limit; QoS 2 is counted with QoS 1 (both are refused the same way). */
  messageRateLimited(qos: number): void {
    if (qos === 0) this.rateLimitedTally.qos0++;
    else this.rateLimitedTally.qos1++;
  }

  alertOpened(kind: string): void {
    this.alertsOpened.labels(kind).inc();
  }

  /**
   * HTTP answers by route pattern (`/api/campaigns/:id`, never the id itself), method and status class. Routes are
   * registered in code, so the series are few; an unmatched path counts as `unmatched`, and past MAX_HTTP_SERIES label
   * sets anything new is counted as route `other` (a bug that put a raw path here must not grow the registry).
   */
  private readonly httpRequests = new Counter({
    name: 'smartstore_http_requests_total',
    help: 'HTTP requests answered, by route pattern, method and status class (2xx, 4xx, …)',
    labelNames: ['route', 'method', 'status_class'] as const,
    registers: [this.registry],
  });
  private readonly httpDuration = new Histogram({
    name: 'smartstore_http_request_duration_seconds',
    help: 'time from request to the end of the answer, by route pattern, method and status class (live streams: how long they stayed open)',
    labelNames: ['route', 'method', 'status_class'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [this.registry],
  });
  private readonly httpSeries = new Set<string>();

  httpRequestAnswered(request: HttpRequestObservation): void {
    const method = HTTP_METHODS.has(request.method) ? request.method : 'OTHER';
    const statusClass = `${Math.trunc(request.statusCode / 100)}xx`;
    let route = request.routePattern ?? 'unmatched';
    const series = `${route} ${method} ${statusClass}`;
    if (!this.httpSeries.has(series)) {
      if (this.httpSeries.size >= MAX_HTTP_SERIES) route = 'other';
      else this.httpSeries.add(series);
    }
    this.httpRequests.labels(route, method, statusClass).inc();
    this.httpDuration.labels(route, method, statusClass).observe(request.durationMs / 1000);
  }

  /**
   * Price campaigns, read from the campaign room when Prometheus scrapes: campaigns kept by state (scheduled and running
   * are the ones under way), and label sends and outcomes since the gateway started.
   */
  observeCampaigns(snapshot: () => CampaignMetricsSnapshot): void {
    let taken: CampaignMetricsSnapshot | undefined;
    // both metrics are collected in one scrape: read the room once
    const take = () => {
      if (!taken) {
        taken = snapshot();
        setImmediate(() => (taken = undefined));
      }
      return taken;
    };
    new Gauge({
      name: 'smartstore_campaigns',
      help: 'price campaigns the gateway keeps, by state (scheduled, running, done, cancelled, rolled-back)',
      labelNames: ['state'],
      registers: [this.registry],
      collect() {
        for (const [state, count] of Object.entries(take().campaignsByState)) this.labels(state).set(count);
      },
    });
    const reported = { sent: 0, confirmed: 0, failed: 0 };
    new Counter({
      name: 'smartstore_campaign_labels_total',
      help: 'campaign label prices since start, by outcome: sent to a driver (retries too), confirmed shown, failed for good',
      labelNames: ['outcome'],
      registers: [this.registry],
      collect() {
        const labels = take().labels;
        for (const outcome of ['sent', 'confirmed', 'failed'] as const) {
          this.labels(outcome).inc(Math.max(0, labels[outcome] - reported[outcome]));
          reported[outcome] = labels[outcome];
        }
      },
    });
  }

  /** Current value of a counter or gauge (summed over labels), for health checks and tests. */
  async value(name: string, labels: Record<string, string> = {}): Promise<number> {
    const metric = this.registry.getSingleMetric(name);
    if (!metric) return 0;
    const { values } = await metric.get();
    return values
      .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
      .reduce((sum, v) => sum + v.value, 0);
  }
}
