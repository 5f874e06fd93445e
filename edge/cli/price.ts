/**
 * `price push <file.csv>`: uploads a price CSV to the RUNNING gateway's API (the gateway owns the labels and their
 * drivers; the CLI only asks), then shows a progress bar until every label is confirmed or failed, lists the failed
 * labels with their reasons and exits 1 if any failed. A bad CSV is answered by the gateway with every bad row.
 *
 * The gateway's address is the config's http section; the token a manager's, from SMARTSTORE_API_TOKEN or --token-file.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import cliProgress from 'cli-progress';
import type { CampaignView } from '../campaigns/campaign.js';
import { resolveConfigOrReport } from './config.js';
import { EXIT, type CliIo, type ExitCode } from './io.js';

export type PricePushOptions = { config?: string; tokenFile?: string; pollMs?: string; timeoutS?: string };

type Problem = { line: number; reason: string };

/** The base URL of the gateway's API as the config describes it; a wildcard listen address is reached on loopback. */
export function gatewayUrl(http: { host: string; port: number; tls?: unknown }): string {
  const host = http.host === '0.0.0.0' || http.host === '::' ? '127.0.0.1' : http.host;
  const scheme = http.tls ? 'https' : 'http';
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${http.port}`;
}

function isFinished(view: CampaignView): boolean {
  return view.finishedAt !== undefined || !['scheduled', 'running'].includes(view.state);
}

/** Labels that will not change any more: confirmed, failed, superseded, cancelled. */
function settled(view: CampaignView): number {
  return view.total - view.counts.pending - view.counts.sent - view.counts.waiting;
}

export async function pushPrices(file: string, options: PricePushOptions, io: CliIo): Promise<ExitCode> {
  const resolved = await resolveConfigOrReport(options.config, io);
  if (typeof resolved === 'number') return resolved;
  const token = options.tokenFile
    ? (await readFile(resolve(io.cwd, options.tokenFile), 'utf8')).trim()
    : io.env.SMARTSTORE_API_TOKEN?.trim();
  if (!token) {
    io.stderr.write(
      'price push needs a manager token: set SMARTSTORE_API_TOKEN or pass --token-file FILE (`token add NAME --role manager`)\n',
    );
    return EXIT.failed;
  }
  let csv: string;
  try {
    csv = await readFile(resolve(io.cwd, file), 'utf8');
  } catch (error) {
    io.stderr.write(`cannot read ${file}: ${(error as Error).message}\n`);
    return EXIT.failed;
  }
  const pollMs = Number(options.pollMs ?? 500);
  const timeoutMs = Number(options.timeoutS ?? 3_600) * 1000;
  const base = gatewayUrl(resolved.config.http);
  const request = async (path: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> => {
    const response = await fetch(`${base}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: shown as it is
    }
    return { status: response.status, body };
  };

  let created: { status: number; body: unknown };
  try {
    created = await request('/api/campaigns', { method: 'POST', headers: { 'content-type': 'text/csv' }, body: csv });
  } catch (error) {
    io.stderr.write(
      `cannot reach the gateway at ${base}: ${(error as Error).message} (is it running? the address comes from the config's http section)\n`,
    );
    return EXIT.failed;
  }
  if (created.status !== 201) {
    const body = created.body as { message?: string; problems?: Problem[] };
    io.stderr.write(`the gateway refused the prices (${created.status}): ${body?.message ?? String(created.body)}\n`);
    for (const problem of body?.problems ?? []) io.stderr.write(`  line ${problem.line}: ${problem.reason}\n`);
    return EXIT.failed;
  }
  let campaigns = (created.body as { campaigns: CampaignView[] }).campaigns;
  for (const view of campaigns) {
    const when = view.effectiveAt === undefined ? 'now' : new Date(view.effectiveAt).toISOString();
    io.stderr.write(
      `campaign ${view.id}: ${view.total} labels, effective ${when}${view.unmappedSkus.length > 0 ? `; no label shows ${view.unmappedSkus.join(', ')}` : ''}\n`,
    );
  }

  // scheduled campaigns are the gateway's to start on time; the CLI follows those under way now
  const scheduled = campaigns.filter((view) => view.state === 'scheduled');
  for (const view of scheduled) io.stderr.write(`campaign ${view.id} is scheduled; follow it with GET /api/campaigns/${view.id}\n`);
  campaigns = campaigns.filter((view) => view.state !== 'scheduled');
  const total = campaigns.reduce((sum, view) => sum + view.total, 0);
  const bar = new cliProgress.SingleBar(
    {
      stream: io.stderr as NodeJS.WritableStream,
      format: 'labels {bar} {value}/{total} | confirmed {confirmed} | failed {failed}',
      noTTYOutput: true,
      notTTYSchedule: 2_000,
      hideCursor: false,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { confirmed: 0, failed: 0 });
  let interrupted = false;
  const stopSignals = io.onSignal(() => {
    interrupted = true;
  });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const views: CampaignView[] = [];
      for (const view of campaigns) {
        if (isFinished(view)) {
          views.push(view);
          continue;
        }
        const answer = await request(`/api/campaigns/${encodeURIComponent(view.id)}`);
        if (answer.status !== 200)
          throw new Error(`GET /api/campaigns/${view.id} answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 200)}`);
        views.push(answer.body as CampaignView);
      }
      campaigns = views;
      const sum = (pick: (view: CampaignView) => number) => campaigns.reduce((acc, view) => acc + pick(view), 0);
      bar.update(sum(settled), { confirmed: sum((view) => view.counts.confirmed), failed: sum((view) => view.counts.failed) });
      if (campaigns.every(isFinished)) break;
      if (interrupted) return EXIT.interrupted;
      if (Date.now() > deadline) {
        io.stderr.write(`\ngave up waiting after ${timeoutMs / 1000} s; the campaigns go on in the gateway\n`);
        return EXIT.failed;
      }
      await new Promise((done) => setTimeout(done, pollMs));
    }
  } catch (error) {
    io.stderr.write(`\nlost track of the campaign: ${(error as Error).message}\n`);
    return EXIT.failed;
  } finally {
    bar.stop();
    stopSignals();
  }

  let failedCount = 0;
  for (const view of campaigns) {
    const { confirmed, failed, superseded, cancelled } = view.counts;
    io.stdout.write(
      `${view.id}\t${view.state}\tconfirmed ${confirmed}\tfailed ${failed}\tsuperseded ${superseded}\tcancelled ${cancelled}\n`,
    );
    failedCount += failed;
    for (const label of view.failed) io.stdout.write(`failed\t${label.labelId}\t${label.sku}\t${label.priceCents}\t${label.reason}\n`);
    if (view.failedNotListed > 0) io.stdout.write(`failed\t… and ${view.failedNotListed} more (GET /api/campaigns/${view.id})\n`);
  }
  return failedCount > 0 ? EXIT.failed : EXIT.ok;
}
