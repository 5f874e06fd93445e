/**
 * How `price …` commands show a campaign: people read the summary lines (counts in words, singular and plural right),
 * scripts read the tab-separated result lines (`<id>\t<state>\tconfirmed N…`, `failed\t…`, `waiting\t…`). Pure.
 */
import { LABEL_STATES, type CampaignView } from '../campaigns/campaign.js';
import { countOf } from '../core/count-words.js';

const at = (ms: number) => new Date(ms).toISOString();
const when = (effectiveAt: number | undefined) => (effectiveAt === undefined ? 'at once' : at(effectiveAt));

/** `3 labels: 1 confirmed, 1 waiting, 1 failed` — the states with labels in them, in their order. */
export function labelCounts(view: CampaignView): string {
  const states = LABEL_STATES.filter((state) => view.counts[state] > 0).map((state) => `${view.counts[state]} ${state}`);
  return `${countOf(view.total, 'label')}${states.length > 0 ? `: ${states.join(', ')}` : ''}`;
}

/** One line when a campaign is created: how many labels, when, and which skus no label shows. */
export function campaignHeadline(view: CampaignView): string {
  const when = view.effectiveAt === undefined ? 'now' : at(view.effectiveAt);
  const unmapped = view.unmappedSkus.length > 0 ? `; no label shows ${view.unmappedSkus.join(', ')}` : '';
  const named = view.name === undefined ? '' : ` (${view.name})`;
  return `campaign ${view.id}${named}: ${countOf(view.total, 'label')}, effective ${when}${unmapped}`;
}

/** What `price status` prints: who, when, where it stands, and every label a person may have to look at. */
export function campaignStatus(view: CampaignView): string {
  const lines = [
    `campaign ${view.id}: ${view.state}`,
    `  created by ${view.createdBy} at ${at(view.createdAt)}, effective ${when(view.effectiveAt)}`,
  ];
  if (view.name !== undefined) lines.push(`  named ${view.name}`);
  lines.push(`  ${countOf(view.skus, 'sku')} in its price list`);
  if (view.startedAt !== undefined) lines.push(`  started ${at(view.startedAt)}`);
  if (view.finishedAt !== undefined) lines.push(`  finished ${at(view.finishedAt)}`);
  if (view.cancelledBy !== undefined) lines.push(`  cancelled by ${view.cancelledBy}`);
  if (view.rollbackOf !== undefined) lines.push(`  rolls back campaign ${view.rollbackOf}`);
  if (view.rolledBackBy !== undefined) lines.push(`  rolled back by campaign ${view.rolledBackBy}`);
  if (view.resendOf !== undefined) lines.push(`  sends the failed labels of campaign ${view.resendOf} again`);
  lines.push(`  ${labelCounts(view)}`);
  if (view.unmappedSkus.length > 0) lines.push(`  no label shows ${view.unmappedSkus.join(', ')}`);
  for (const skipped of view.skippedLabels) lines.push(`  skipped ${skipped.labelId}: ${skipped.reason}`);
  return `${lines.join('\n')}\n${labelLines(view)}`;
}

/** The tab-separated result: the campaign's line, then its failed and waiting labels with their reasons. */
export function campaignResult(view: CampaignView): string {
  const { confirmed, failed, superseded, cancelled, waiting } = view.counts;
  const head = `${view.id}\t${view.state}\tconfirmed ${confirmed}\tfailed ${failed}\tsuperseded ${superseded}\tcancelled ${cancelled}`;
  return `${head}${waiting > 0 ? `\twaiting ${waiting}` : ''}\n${labelLines(view)}`;
}

function labelLines(view: CampaignView): string {
  let text = '';
  for (const label of view.failed) text += `failed\t${label.labelId}\t${label.sku}\t${label.priceCents}\t${label.reason}\n`;
  if (view.failedNotListed > 0) text += `failed\t… and ${view.failedNotListed} more (price status ${view.id} shows up to 500)\n`;
  for (const label of view.mismatched) {
    text += `mismatched\t${label.labelId}\t${label.sku}\t${label.priceCents}\tconfirmed, but shows ${label.shownPriceCents} now\n`;
  }
  if (view.mismatchedNotListed > 0) text += `mismatched\t… and ${view.mismatchedNotListed} more\n`;
  for (const label of view.waiting) {
    const retry = label.retryAt === undefined ? '' : ` (next try ${at(label.retryAt)})`;
    text += `${label.state}\t${label.labelId}\t${label.sku}\t${label.priceCents}\t${label.reason}${retry}\n`;
  }
  if (view.waitingNotListed > 0) text += `waiting\t… and ${view.waitingNotListed} more\n`;
  return text;
}

/** Labels that will not change any more: confirmed, failed, superseded, cancelled. */
export function settledLabels(view: CampaignView): number {
  return view.total - view.counts.pending - view.counts.sent - view.counts.waiting;
}

export function isFinished(view: CampaignView): boolean {
  return view.finishedAt !== undefined || !['scheduled', 'running'].includes(view.state);
}

/**
 * Under way, but every label left waits until it is reachable (which may take hours: tags sleep, labels are away):
 * nothing more to watch now. Retrying labels are still watched — they end within minutes.
 */
export function onlyWaitingLeft(view: CampaignView): boolean {
  return !isFinished(view) && view.counts.waiting > 0 && view.counts.pending + view.counts.sent === 0;
}
