/**
 * `price push <file.csv>`: uploads a price CSV to the RUNNING gateway's API (the gateway owns the labels and their
 * drivers; the CLI only asks), then shows a progress bar until every label is confirmed or failed — or only labels
 * waiting until the label is reachable (asleep, away, held by its access point) are left — lists the failed and waiting labels with their
 * reasons and exits 1 if any failed. A bad CSV is answered by the gateway with every bad row.
 * `price status|cancel|rollback <id>`: one campaign, as the API has it.
 *
 * The gateway's address is the config's http section; the token a manager's, from SMARTSTORE_API_TOKEN or --token-file.
 */
import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import type { CampaignView } from '../campaigns/campaign.js';
import { countOf } from '../core/count-words.js';
import { resolveConfigOrReport } from './config.js';
import { EXIT, type CliIo, type ExitCode } from './io.js';
import { campaignHeadline, campaignResult, campaignStatus, isFinished, onlyWaitingLeft, settledLabels } from './price-report.js';

export type PriceCommandOptions = { config?: string; tokenFile?: string };
export type FollowOptions = { pollMs?: string; timeoutS?: string; waitForLabels?: boolean };
/** title: what the campaign is called on the staff page and in `price status` (default: the file's name) */
export type PricePushOptions = PriceCommandOptions & FollowOptions & { force?: boolean; title?: string };

type Problem = { line: number; reason: string; forceable?: boolean };
type Answer = { status: number; body: unknown };
type Request = (path: string, init?: RequestInit) => Promise<Answer>;

/** The base URL of the gateway's API as the config describes it; a wildcard listen address is reached on loopback. */
export function gatewayUrl(http: { host: string; port: number; tls?: unknown }): string {
  const host = http.host === '0.0.0.0' || http.host === '::' ? '127.0.0.1' : http.host;
  const scheme = http.tls ? 'https' : 'http';
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${http.port}`;
}

/**
 * The token in a token file: the bare token `token add --raw` writes, or the JSON line plain `token add` prints (a file
 * made with `token add maria … > maria.token` before --raw existed still works).
 */
export function tokenFromFile(text: string): string {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return trimmed;
  try {
    const parsed = JSON.parse(trimmed) as { token?: unknown };
    return typeof parsed.token === 'string' ? parsed.token : trimmed;
  } catch {
    return trimmed;
  }
}

/** The API as one manager token sees it, or the exit code after saying what is missing. */
async function gatewayApi(
  options: PriceCommandOptions,
  io: CliIo,
  command: string,
): Promise<{ request: Request; base: string } | ExitCode> {
  const resolved = await resolveConfigOrReport(options.config, io);
  if (typeof resolved === 'number') return resolved;
  let token: string | undefined;
  if (options.tokenFile) {
    try {
      token = tokenFromFile(await readFile(resolve(io.cwd, options.tokenFile), 'utf8'));
    } catch (error) {
      io.stderr.write(`cannot read the token file ${options.tokenFile}: ${(error as Error).message}\n`);
      return EXIT.failed;
    }
  } else {
    token = io.env.SMARTSTORE_API_TOKEN?.trim();
  }
  if (!token) {
    io.stderr.write(
      `${command} needs a manager token: set SMARTSTORE_API_TOKEN or pass --token-file FILE ` +
        '(`token add NAME --role manager --raw > FILE`)\n',
    );
    return EXIT.failed;
  }
  const base = gatewayUrl(resolved.config.http);
  const request: Request = async (path, init = {}) => {
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
  return { request, base };
}

/** A request, or the exit code after saying the gateway cannot be reached. */
async function ask(api: { request: Request; base: string }, io: CliIo, path: string, init?: RequestInit): Promise<Answer | ExitCode> {
  try {
    return await api.request(path, init);
  } catch (error) {
    io.stderr.write(
      `cannot reach the gateway at ${api.base}: ${(error as Error).message} ` +
        "(is it running? the address comes from the config's http section)\n",
    );
    return EXIT.failed;
  }
}

/** A refusal as people read it: the status, the gateway's message and, for a bad file, every bad row. */
function reportRefusal(io: CliIo, what: string, answer: Answer): ExitCode {
  const body = answer.body as { message?: string; problems?: Problem[] } | string;
  const message = typeof body === 'object' && body !== null ? (body.message ?? JSON.stringify(body)) : String(body);
  io.stderr.write(`${what} (${answer.status}): ${message}\n`);
  const problems = typeof body === 'object' && body !== null ? (body.problems ?? []) : [];
  for (const problem of problems) io.stderr.write(`  line ${problem.line}: ${problem.reason}\n`);
  if (problems.some((problem) => problem.forceable)) {
    io.stderr.write('rows marked "if that is meant" are sent with --force; fix the others first\n');
  }
  return EXIT.failed;
}

const campaignPath = (id: string) => `/api/campaigns/${encodeURIComponent(id)}`;

type Follow = { pollMs: number; timeoutMs: number; waitForLabels: boolean };

/** --poll-ms and --timeout-s as numbers, or the exit code after naming the bad one (checked before anything is sent). */
function followOptionsOf(options: FollowOptions, io: CliIo): Follow | ExitCode {
  const pollMs = Number(options.pollMs ?? 500);
  const timeoutS = Number(options.timeoutS ?? 3_600);
  if (!Number.isInteger(pollMs) || pollMs < 10) {
    io.stderr.write(`--poll-ms "${options.pollMs}": a whole number of milliseconds, at least 10\n`);
    return EXIT.failed;
  }
  if (!(timeoutS > 0)) {
    io.stderr.write(`--timeout-s "${options.timeoutS}": a number of seconds above 0\n`);
    return EXIT.failed;
  }
  return { pollMs, timeoutMs: timeoutS * 1000, waitForLabels: options.waitForLabels === true };
}

export async function pushPrices(file: string, options: PricePushOptions, io: CliIo): Promise<ExitCode> {
  const follow = followOptionsOf(options, io);
  if (typeof follow === 'number') return follow;
  const api = await gatewayApi(options, io, 'price push');
  if (typeof api === 'number') return api;
  let csv: string;
  try {
    csv = await readFile(resolve(io.cwd, file), 'utf8');
  } catch (error) {
    io.stderr.write(`cannot read ${file}: ${(error as Error).message}\n`);
    return EXIT.failed;
  }
  // the campaign is named by the file (without its folder: that says where it was, not what it is) or by --title
  const query = new URLSearchParams({ name: options.title ?? basename(file) });
  if (options.force) query.set('force', 'true');
  const path = `/api/campaigns?${query.toString()}`;
  const created = await ask(api, io, path, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: csv });
  if (typeof created === 'number') return created;
  if (created.status !== 201) return reportRefusal(io, 'the gateway refused the prices', created);
  const campaigns = (created.body as { campaigns: CampaignView[] }).campaigns;
  for (const view of campaigns) io.stderr.write(`${campaignHeadline(view)}\n`);
  return followCampaigns(campaigns, api.request, follow, io);
}

export async function showCampaign(id: string, options: PriceCommandOptions, io: CliIo): Promise<ExitCode> {
  const api = await gatewayApi(options, io, 'price status');
  if (typeof api === 'number') return api;
  const answer = await ask(api, io, campaignPath(id));
  if (typeof answer === 'number') return answer;
  if (answer.status !== 200) return reportRefusal(io, `no status for campaign ${id}`, answer);
  io.stdout.write(campaignStatus(answer.body as CampaignView));
  return EXIT.ok;
}

export async function cancelCampaign(id: string, options: PriceCommandOptions, io: CliIo): Promise<ExitCode> {
  const api = await gatewayApi(options, io, 'price cancel');
  if (typeof api === 'number') return api;
  const answer = await ask(api, io, `${campaignPath(id)}/cancel`, { method: 'POST' });
  if (typeof answer === 'number') return answer;
  if (answer.status !== 200) return reportRefusal(io, `campaign ${id} not cancelled`, answer);
  const view = answer.body as CampaignView;
  io.stderr.write(
    `cancelled campaign ${view.id}: ${countOf(view.counts.cancelled, 'label')} will not get its price; ` +
      `${countOf(view.counts.confirmed, 'label')} already showing it keep it (price rollback ${view.id} takes them back)\n`,
  );
  io.stdout.write(campaignResult(view));
  return EXIT.ok;
}

export async function rollbackCampaign(id: string, options: PriceCommandOptions & FollowOptions, io: CliIo): Promise<ExitCode> {
  const follow = followOptionsOf(options, io);
  if (typeof follow === 'number') return follow;
  const api = await gatewayApi(options, io, 'price rollback');
  if (typeof api === 'number') return api;
  const answer = await ask(api, io, `${campaignPath(id)}/rollback`, { method: 'POST' });
  if (typeof answer === 'number') return answer;
  if (answer.status !== 201) return reportRefusal(io, `campaign ${id} not rolled back`, answer);
  const view = answer.body as CampaignView;
  io.stderr.write(`rolling back campaign ${id} with campaign ${view.id}: ${countOf(view.total, 'label')} back to their earlier prices\n`);
  for (const skipped of view.skippedLabels) io.stderr.write(`  skipped ${skipped.labelId}: ${skipped.reason}\n`);
  return followCampaigns([view], api.request, follow, io);
}

/**
 * Follows campaigns under way with a progress bar until each is finished — or, unless --wait-for-labels, until only
 * labels waiting to be reachable are left — then prints the result lines. Exit 1 if a label
 * failed. Scheduled campaigns are the gateway's to start on time: named, not followed.
 */
async function followCampaigns(started: CampaignView[], request: Request, options: Follow, io: CliIo): Promise<ExitCode> {
  for (const view of started.filter((campaign) => campaign.state === 'scheduled')) {
    io.stderr.write(`campaign ${view.id} is scheduled; follow it with \`price status ${view.id}\`\n`);
  }
  let campaigns = started.filter((view) => view.state !== 'scheduled');
  const { pollMs, timeoutMs } = options;
  const done = (view: CampaignView) => isFinished(view) || (!options.waitForLabels && onlyWaitingLeft(view));
  const bar = new cliProgress.SingleBar(
    {
      stream: io.stderr as NodeJS.WritableStream,
      format: 'labels {bar} {value}/{total} | confirmed {confirmed} | failed {failed} | waiting {waiting}',
      noTTYOutput: true,
      notTTYSchedule: 2_000,
      hideCursor: false,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(
    campaigns.reduce((sum, view) => sum + view.total, 0),
    0,
    { confirmed: 0, failed: 0, waiting: 0 },
  );
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
        const answer = await request(campaignPath(view.id));
        if (answer.status !== 200)
          throw new Error(`GET /api/campaigns/${view.id} answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 200)}`);
        views.push(answer.body as CampaignView);
      }
      campaigns = views;
      const sum = (pick: (view: CampaignView) => number) => campaigns.reduce((acc, view) => acc + pick(view), 0);
      bar.update(sum(settledLabels), {
        confirmed: sum((view) => view.counts.confirmed),
        failed: sum((view) => view.counts.failed),
        waiting: sum((view) => view.counts.waiting),
      });
      if (campaigns.every(done)) break;
      if (interrupted) return EXIT.interrupted;
      if (Date.now() > deadline) {
        io.stderr.write(`\ngave up waiting after ${timeoutMs / 1000} s; the campaigns go on in the gateway\n`);
        for (const view of campaigns) io.stdout.write(campaignResult(view));
        return EXIT.failed;
      }
      await new Promise((wake) => setTimeout(wake, pollMs));
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
    io.stdout.write(campaignResult(view));
    failedCount += view.counts.failed;
    if (onlyWaitingLeft(view)) {
      const one = view.counts.waiting === 1;
      io.stderr.write(
        `campaign ${view.id}: ${countOf(view.counts.waiting, 'label')} ${one ? 'is' : 'are'} not reachable now and ` +
          `${one ? 'takes' : 'take'} the price when ${one ? 'it checks' : 'they check'} in; the gateway goes on ` +
          `(\`price status ${view.id}\`, or --wait-for-labels to follow to the end)\n`,
      );
    }
  }
  return failedCount > 0 ? EXIT.failed : EXIT.ok;
}
