// The price file upload: the file goes to POST /api/campaigns as text/csv, named by its file name (?name=); the gateway
// answers every bad row with its line, in words, and the form lists them. Rows that may be meant (a price of 0, a
// time already past) can be sent anyway, as `price push --force` does.
import { useRef, useState } from 'preact/hooks';
import type { CampaignView } from '../../../../../edge/campaigns/campaign.js';
import { ApiError, UNREACHABLE, sendJson } from '../../api.js';
import { formatDateTime, plural } from '../../format.js';

/** Bad rows listed; a longer list says how many more (the gateway lists every one). */
const PROBLEMS_SHOWN_MAX = 50;

type Problem = { line: number; reason: string; forceable?: boolean };
type Result = { kind: 'info' | 'error'; message: string; problems: Problem[]; forceable: boolean };

export function uploadPath(fileName: string, force: boolean): string {
  const query = new URLSearchParams({ name: fileName });
  if (force) query.set('force', 'true');
  return `/api/campaigns?${query.toString()}`;
}

export function PriceUpload({ onCreated }: { onCreated: (views: CampaignView[]) => void }) {
  const form = useRef<HTMLFormElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<Result | null>(null);
  /** the file of the last refused upload, kept for "Send anyway" */
  const [refusedFile, setRefusedFile] = useState<File | null>(null);

  const upload = async (file: File, force: boolean) => {
    if (busy) return;
    setBusy(true);
    try {
      const answer = await sendJson<{ campaigns: CampaignView[] }>('POST', uploadPath(file.name, force), await file.text(), {
        retryAfterSignIn: () => void upload(file, force),
      });
      onCreated(answer.campaigns);
      setResult({ kind: 'info', message: `${file.name}: ${createdInWords(answer.campaigns)}.`, problems: [], forceable: false });
      setRefusedFile(null);
      form.current?.reset();
    } catch (error) {
      setResult(refusal(file, error));
      setRefusedFile(file);
    } finally {
      setBusy(false);
    }
  };

  const submit = (event: Event) => {
    event.preventDefault();
    const file = input.current?.files?.[0];
    if (file) void upload(file, false);
  };

  const shown = result?.problems.slice(0, PROBLEMS_SHOWN_MAX) ?? [];
  const more = (result?.problems.length ?? 0) - shown.length;
  return (
    <div class="price-upload">
      <form ref={form} class="price-upload__form" data-testid="price-upload" onSubmit={submit}>
        <label for="price-file" class="price-upload__label">
          Price file (CSV: <code>sku,priceCents</code>, optional <code>effectiveAt</code>)
        </label>
        <input id="price-file" ref={input} data-testid="price-file" type="file" accept=".csv,text/csv" required />
        <button type="submit" class="button button--primary" aria-disabled={busy}>
          Upload prices
        </button>
      </form>
      <div class="csv-result" data-testid="csv-result" data-kind={result?.kind ?? 'info'} role="status" hidden={!result}>
        <p>{result?.message}</p>
        <ul class="csv-result__problems" data-testid="csv-problems">
          {shown.map((problem) => (
            <li key={problem.line} data-testid="csv-problem" data-line={problem.line}>
              <strong>Line {problem.line}</strong>: {problem.reason}
            </li>
          ))}
          {more > 0 && <li>and {plural(more, 'more bad row')}</li>}
        </ul>
        {result?.forceable && refusedFile && (
          <button type="button" class="button" data-testid="price-upload-force" onClick={() => void upload(refusedFile, true)}>
            Send {refusedFile.name} anyway
          </button>
        )}
      </div>
    </div>
  );
}

/** "1 campaign started for 3 labels; 1 campaign scheduled for 2 labels (from 8 Dec 2026, 06:00)" */
export function createdInWords(views: readonly CampaignView[]): string {
  const labels = (list: readonly CampaignView[]) =>
    plural(
      list.reduce((sum, view) => sum + view.total, 0),
      'label',
    );
  const started = views.filter((view) => view.state !== 'scheduled');
  const scheduled = views.filter((view) => view.state === 'scheduled');
  const parts: string[] = [];
  if (started.length > 0) parts.push(`${plural(started.length, 'campaign')} started for ${labels(started)}`);
  if (scheduled.length > 0) {
    const from = Math.min(...scheduled.map((view) => view.effectiveAt ?? Number.POSITIVE_INFINITY));
    const when = Number.isFinite(from) ? ` (from ${formatDateTime(from)})` : '';
    parts.push(`${plural(scheduled.length, 'campaign')} scheduled for ${labels(scheduled)}${when}`);
  }
  return parts.join('; ');
}

function refusal(file: File, error: unknown): Result {
  if (!(error instanceof ApiError)) return { kind: 'error', message: `${file.name} was not uploaded.`, problems: [], forceable: false };
  const problems = ((error.body as { problems?: Problem[] } | null)?.problems ?? []).filter((problem) => typeof problem.line === 'number');
  if (error.status === 400 && problems.length > 0) {
    const forceable = problems.every((problem) => problem.forceable === true);
    return {
      kind: 'error',
      message: forceable
        ? `${file.name} was not uploaded: ${plural(problems.length, 'row')} may be a mistake. ` +
          'Check them; send the file anyway if they are meant:'
        : `${file.name} was not uploaded — ${plural(problems.length, 'bad row')}; nothing changed. Fix them and upload the file again:`,
      problems,
      forceable,
    };
  }
  const why = error.status === UNREACHABLE ? 'could not reach the gateway; try again' : error.message.replace(/\.$/, '');
  return { kind: 'error', message: `${file.name} was not uploaded: ${why}.`, problems: [], forceable: false };
}
