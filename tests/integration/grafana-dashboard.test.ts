/**
 * dashboards/grafana/: every metric the Grafana dashboard queries exists in a running gateway's /metrics, and every
 * label its selectors match on is one that metric carries — a renamed metric or label would leave a panel empty
 * without an error anywhere.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hqOverrides } from '../helpers/mosquitto.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { CAMPAIGN_PLANOGRAM, connectLabels } from './campaign-labels.js';

type Panel = {
  id: number;
  type: string;
  title: string;
  datasource?: { uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: { expr: string; refId: string }[];
  panels?: Panel[];
};
type Dashboard = { uid: string; panels: Panel[]; templating: { list: { name: string; query?: unknown; definition?: string }[] } };

const METRIC = /\b(smartstore_[A-Za-z0-9_:]+)/g;
const SELECTOR = /\b(smartstore_[A-Za-z0-9_:]+)\{([^}]*)\}/g;
const MATCHER = /([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)\s*"/g;
const HISTOGRAM_SUFFIX = /_(bucket|sum|count)$/;

/** An exposition's metric families (`# TYPE` lines) and, per family, the label names its samples carry. */
function exposition(text: string): { families: Map<string, string>; labels: Map<string, Set<string>> } {
  const families = new Map<string, string>();
  const labels = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      families.set(type[1] as string, type[2] as string);
      continue;
    }
    const sample = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})? /.exec(line);
    if (!sample) continue;
    const name = sample[1] as string;
    const family = families.has(name) ? name : name.replace(HISTOGRAM_SUFFIX, '');
    const names = labels.get(family) ?? new Set<string>();
    for (const match of (sample[2] ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)="/g)) names.add(match[1] as string);
    labels.set(family, names);
  }
  return { families, labels };
}

/** The family a queried name belongs to: `x_bucket` of histogram `x` is `x`. */
function familyOf(name: string, families: Map<string, string>): string | undefined {
  if (families.has(name)) return name;
  const base = name.replace(HISTOGRAM_SUFFIX, '');
  return base !== name && families.get(base) === 'histogram' ? base : undefined;
}

/** Every problem of the queries against the exposition: a metric it lacks, a label a metric does not carry. */
function queryProblems(exprs: readonly string[], text: string): string[] {
  const { families, labels } = exposition(text);
  const problems: string[] = [];
  for (const expr of exprs) {
    for (const [, name] of expr.matchAll(METRIC)) {
      if (!familyOf(name as string, families)) problems.push(`${name}: not in /metrics (${expr})`);
    }
    for (const [, name, matchers] of expr.matchAll(SELECTOR)) {
      const family = familyOf(name as string, families);
      // a family without samples yet (no refused connection so far) shows no labels to compare with
      const carried = family ? labels.get(family) : undefined;
      if (!carried || carried.size === 0) continue;
      for (const [, label] of (matchers as string).matchAll(MATCHER)) {
        if (label !== 'instance' && label !== 'job' && !carried.has(label as string)) problems.push(`${name}: no label ${label} (${expr})`);
      }
    }
  }
  return problems;
}

function allPanels(panels: readonly Panel[]): Panel[] {
  return panels.flatMap((panel) => [panel, ...allPanels(panel.panels ?? [])]);
}

let tg: TestGateway;
let dashboard: Dashboard;
let metricsText: string;

beforeAll(async () => {
  dashboard = JSON.parse(await readFile('dashboards/grafana/smartstore-edge.json', 'utf8')) as Dashboard;
  // the relay's metrics exist with hq.enabled only: an HQ that refuses the connection (nothing listens on port 9) will do
  tg = await startTestGateway({ planogram: CAMPAIGN_PLANOGRAM, overrides: { hq: hqOverrides('mqtt://127.0.0.1:9') } });
  await connectLabels(tg);
  // traffic for every family with labels: a campaign to the end, answers of several classes, a refused token
  const created = await tg.api('/api/campaigns', {
    method: 'POST',
    body: JSON.stringify({ id: 'grafana-1', prices: [{ sku: '4000000000017', priceCents: 205 }] }),
  });
  expect(created.status).toBe(201);
  await eventually(
    async () => ((await (await tg.api('/api/campaigns/grafana-1')).json()) as { finishedAt?: number }).finishedAt,
    10_000,
    'the campaign to finish',
  );
  expect((await tg.api('/api/campaigns/no-such-campaign')).status).toBe(404);
  expect((await tg.api('/api/alerts', { token: 'not-a-token-at-all' })).status).toBe(401);
  metricsText = await eventually(
    async () => {
      const text = await (await tg.api('/metrics')).text();
      return text.includes('smartstore_campaign_labels_total{outcome="confirmed"} 2') && text.includes('status_class="4xx"')
        ? text
        : undefined;
    },
    10_000,
    '/metrics with the campaign and HTTP metrics',
  );
});
afterAll(async () => {
  await tg?.dispose();
});

describe('Grafana dashboard', () => {
  const exprs = () => [
    ...allPanels(dashboard.panels).flatMap((panel) => (panel.targets ?? []).map((target) => target.expr)),
    ...dashboard.templating.list.map((variable) => variable.definition ?? ''),
  ];

  it('queries only metrics and labels a running gateway exposes', () => {
    expect(exprs().length).toBeGreaterThan(20);
    expect(queryProblems(exprs(), metricsText)).toEqual([]);
  });

  it('covers devices, ingest, alerts, campaigns, relay backlog and drops, and HTTP requests', () => {
    const queried = new Set(exprs().flatMap((expr) => [...expr.matchAll(METRIC)].map((match) => match[1])));
    for (const name of [
      'smartstore_mqtt_connected_devices',
      'smartstore_labels',
      'smartstore_device_messages_total',
      'smartstore_alerts_active',
      'smartstore_alerts_opened_total',
      'smartstore_campaigns',
      'smartstore_campaign_labels_total',
      'smartstore_relay_backlog_rows',
      'smartstore_relay_dropped_events',
      'smartstore_http_requests_total',
      'smartstore_http_request_duration_seconds_bucket',
    ]) {
      expect(queried).toContain(name);
    }
  });

  it('counts HTTP answers by route pattern, never by the raw path', () => {
    expect(metricsText).toMatch(/smartstore_http_requests_total\{route="\/api\/campaigns\/:id",method="GET",status_class="4xx"\} [1-9]/);
    expect(metricsText).not.toContain('route="/api/campaigns/grafana-1"');
  });

  it('reports a metric or label that is not there (the check can fail)', () => {
    expect(queryProblems(['rate(smartstore_no_such_metric_total[5m])'], metricsText)).toEqual([
      'smartstore_no_such_metric_total: not in /metrics (rate(smartstore_no_such_metric_total[5m]))',
    ]);
    expect(queryProblems(['sum(smartstore_campaigns{phase="running"})'], metricsText)).toEqual([
      'smartstore_campaigns: no label phase (sum(smartstore_campaigns{phase="running"}))',
    ]);
  });

  it('imports cleanly: unique panel ids, panels inside the 24-column grid, every query on the chosen data source', () => {
    const panels = allPanels(dashboard.panels);
    expect(new Set(panels.map((panel) => panel.id)).size).toBe(panels.length);
    for (const panel of panels) {
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
      if (panel.type !== 'row') expect(panel.datasource?.uid, panel.title).toBe('${datasource}');
      for (const target of panel.targets ?? []) expect(target.expr, panel.title).toContain('instance=~"$instance"');
    }
    expect(dashboard.templating.list.map((variable) => variable.name)).toEqual(['datasource', 'instance']);
  });
});
