/**
 * What is wrong with a shelf label, pure and browser-safe (the staff page imports it, so no node: import here): the
 * API sorts and filters `GET /api/labels` by it and the page words it. Failed first (nobody can change its price),
 * then offline and never seen (it may show anything), a low battery (it will go offline), a price on its way, ok.
 */
import { naturalCompare } from '../core/natural-order.js';

/** What the problem is decided from: a label as GET /api/labels shows it (edge/labels/label-routes.ts LabelView). */
export type LabelFacts = {
  labelId: string;
  state: 'ok' | 'offline' | 'battery-low' | 'never-seen';
  /** the link of the label's driver to its access point; null: no driver known */
  driverLinkUp: boolean | null;
  displayedPriceCents: number | null;
  confirmedPriceCents: number | null;
  pendingPriceCents: number | null;
  shelfId: string | null;
  facing: number | null;
};

export const LABEL_PROBLEMS = ['failed', 'offline', 'never-seen', 'battery-low', 'price-pending', 'ok'] as const;
export type LabelProblem = (typeof LABEL_PROBLEMS)[number];

/** Why a label failed: its driver cannot reach it, or it shows another price than the one it confirmed. */
export type LabelFailure = 'driver-link' | 'price-mismatch';

/** Problems a person must act on ("problems only"): a price on its way is not one of them. */
export function needsAttention(problem: LabelProblem): boolean {
  return problem !== 'ok' && problem !== 'price-pending';
}

export function labelFailure(label: LabelFacts): LabelFailure | undefined {
  if (label.driverLinkUp === false) return 'driver-link';
  // while a campaign is sending, the label may show the old or the new price: only a settled label can disagree
  const { displayedPriceCents: shown, confirmedPriceCents: confirmed } = label;
  if (label.pendingPriceCents === null && shown !== null && confirmed !== null && shown !== confirmed) return 'price-mismatch';
  return undefined;
}

export function labelProblem(label: LabelFacts): LabelProblem {
  if (labelFailure(label)) return 'failed';
  if (label.state !== 'ok') return label.state;
  return label.pendingPriceCents !== null ? 'price-pending' : 'ok';
}

const RANK: Record<LabelProblem, number> = Object.fromEntries(LABEL_PROBLEMS.map((problem, index) => [problem, index])) as Record<
  LabelProblem,
  number
>;

type Ranked = LabelFacts & { problem: LabelProblem };

/** The order people read labels in: worst problem first, then by shelf and facing (unbound last), then by id. */
export function compareLabels(a: Ranked, b: Ranked): number {
  return (
    RANK[a.problem] - RANK[b.problem] ||
    compareText(a.shelfId, b.shelfId) ||
    (a.facing ?? Number.MAX_SAFE_INTEGER) - (b.facing ?? Number.MAX_SAFE_INTEGER) ||
    compareText(a.labelId, b.labelId)
  );
}

/**
 * Sorts in compareLabels' order, fast enough for 50,000 labels per request: the shelves (a few hundred) are ranked
 * once, so most comparisons are of numbers, and ids are compared only within one facing.
 */
export function sortLabels<T extends Ranked>(labels: readonly T[]): T[] {
  const shelves = [...new Set(labels.flatMap((label) => (label.shelfId === null ? [] : [label.shelfId])))].sort(naturalCompare);
  const shelfRank = new Map(shelves.map((shelfId, index) => [shelfId, index]));
  const keyed = labels.map((label) => ({
    label,
    rank: RANK[label.problem],
    shelf: label.shelfId === null ? shelves.length : shelfRank.get(label.shelfId)!,
    facing: label.facing ?? Number.MAX_SAFE_INTEGER,
  }));
  keyed.sort((a, b) => a.rank - b.rank || a.shelf - b.shelf || a.facing - b.facing || naturalCompare(a.label.labelId, b.label.labelId));
  return keyed.map((entry) => entry.label);
}

function compareText(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return naturalCompare(a, b);
}
