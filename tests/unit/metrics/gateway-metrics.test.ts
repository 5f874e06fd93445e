import { describe, expect, it } from 'vitest';
import { GatewayMetrics, type CampaignMetricsSnapshot } from '../../../edge/metrics/gateway-metrics.js';

const metricsWithout = () => new GatewayMetrics({ channels: [], defaultMetrics: false });

describe('HTTP request metrics', () => {
  it('counts answers by route pattern, method and status class, with their duration', async () => {
    const metrics = metricsWithout();
    metrics.httpRequestAnswered({ method: 'GET', routePattern: '/api/campaigns/:id', statusCode: 200, durationMs: 12 });
    metrics.httpRequestAnswered({ method: 'GET', routePattern: '/api/campaigns/:id', statusCode: 404, durationMs: 3 });
    metrics.httpRequestAnswered({ method: 'GET', routePattern: '/api/campaigns/:id', statusCode: 204, durationMs: 30 });
    metrics.httpRequestAnswered({ method: 'BREW', routePattern: undefined, statusCode: 404, durationMs: 1 });
    const text = await metrics.registry.metrics();
    expect(text).toContain('smartstore_http_requests_total{route="/api/campaigns/:id",method="GET",status_class="2xx"} 2');
    expect(text).toContain('smartstore_http_requests_total{route="/api/campaigns/:id",method="GET",status_class="4xx"} 1');
    expect(text).toContain('smartstore_http_requests_total{route="unmatched",method="OTHER",status_class="4xx"} 1');
    expect(text).toContain(
      'smartstore_http_request_duration_seconds_bucket{le="0.025",route="/api/campaigns/:id",method="GET",status_class="2xx"} 1',
    );
    expect(text).toContain('smartstore_http_request_duration_seconds_count{route="/api/campaigns/:id",method="GET",status_class="2xx"} 2');
  });

  it('keeps the label sets bounded: past 500, new routes count as "other"', async () => {
    const metrics = metricsWithout();
    for (let index = 0; index < 700; index++) {
      metrics.httpRequestAnswered({ method: 'GET', routePattern: `/raw/${index}`, statusCode: 200, durationMs: 1 });
    }
    const counted = (await metrics.registry.getSingleMetric('smartstore_http_requests_total')?.get())?.values ?? [];
    expect(counted).toHaveLength(501);
    expect(counted.find((value) => value.labels.route === 'other')?.value).toBe(200);
  });
});

describe('campaign metrics', () => {
  it('shows campaigns by state and label outcomes as counters, read from the room at scrape time', async () => {
    const metrics = metricsWithout();
    let snapshot: CampaignMetricsSnapshot = {
      campaignsByState: { scheduled: 1, running: 2, done: 0, cancelled: 0, 'rolled-back': 0 },
      labels: { sent: 10, confirmed: 7, failed: 1 },
    };
    metrics.observeCampaigns(() => snapshot);
    let text = await metrics.registry.metrics();
    expect(text).toContain('smartstore_campaigns{state="running"} 2');
    expect(text).toContain('smartstore_campaigns{state="done"} 0');
    expect(text).toContain('smartstore_campaign_labels_total{outcome="confirmed"} 7');
    snapshot = { campaignsByState: { ...snapshot.campaignsByState, running: 0, done: 2 }, labels: { sent: 12, confirmed: 9, failed: 1 } };
    await new Promise((settled) => setImmediate(settled)); // one scrape reads the room once; the next reads it again
    text = await metrics.registry.metrics();
    expect(text).toContain('smartstore_campaigns{state="running"} 0');
    expect(text).toContain('smartstore_campaigns{state="done"} 2');
    expect(text).toContain('smartstore_campaign_labels_total{outcome="sent"} 12');
    expect(text).toContain('smartstore_campaign_labels_total{outcome="confirmed"} 9');
    expect(text).toContain('smartstore_campaign_labels_total{outcome="failed"} 1');
  });
});
