/**
 * Phantom stock: kiosks sell a sku while none of its facings' weights goes down. The product is sold from somewhere
 * else (a second placement, a pallet in the aisle), the planogram puts it on the wrong facing, or the facing's load
 * cell stopped following the shelf. Either way the gateway's count of that sku is fiction, and so are its low-stock
 * and availability figures. Pure: time arrives as `at`.
 *
 * A shopper takes the product, walks, and pays minutes later, so a sale is normally *preceded* by a drop on one of
 * the sku's facings within the shopping time. The detector counts units sold at kiosks that no drop in the shopping
 * time before could explain; past `minUnexplainedUnits` within `windowMs`, the sku is phantom. One drop explains as
 * many units as it took, so a busy facing explains its own sales and a quiet one cannot explain a run of them.
 *
 * One unexplained unit is enough, and the verdict comes with the sale: while the shelf is right, every kiosk sale has
 * its drop (drops that no sale claims — the staffed tills' — stay for the shopping time), so a sale with none is
 * evidence at once. The one honest way a drop goes missing is a restock: the stock pipeline's rolling median shows a
 * take only after a few readings, and a restock within them swallows it (units 12 → 10 → 23 read as 12 → 23). So a
 * restock counts as a drop of `restockMaskUnits` that may have been hidden, for the usual shopping time only
 * (`restockMaskMs`): a longer mask would hide a product misplaced soon after its facing was refilled.
 */

export type PhantomParams = {
  /** how long before a sale the units it paid for may have left the shelf */
  shoppingTimeMs: number;
  /** unexplained units within `windowMs` that make a sku phantom */
  minUnexplainedUnits: number;
  windowMs: number;
  /** the phantom verdict clears once drops explain this many units of sales again */
  clearAfterExplainedUnits: number;
  /** a drop this soon after a sale still explains it: the shelf's smoothed weight can settle after the kiosk's event */
  lateDropGraceMs: number;
  /** units a restock may have hidden: a take just before it that the smoothed weight had not shown yet */
  restockMaskUnits: number;
  /** ... and how long they may explain sales: most shoppers pay within 20 min (a long trip and a hidden take are rare) */
  restockMaskMs: number;
};

// tuned on the replay harness (bench/insight-replay.ts, raw readings through the stock pipeline): a 45 min shopping
// time leaves no false alarm from long trips (5 % of shoppers pay 20–40 min after taking). Two unexplained units
// waited for a slow sku's next sale (median 25 min after the first unexplainable one, 6 of 20 within 15 min); one finds
// 19 of 20 at that sale. The only false alarms one unit raised were takes a restock hid (a 2-unit take 14 s before
// one): 3 units of mask cover a shopper's take (85 % take one, 15 % two or three). A mask for the whole shopping time
// hid 3 of the 20 (misplaced or stuck within 45 min of a refill); 22 min hides none of them and keeps the false alarms away
export const DEFAULT_PHANTOM_PARAMS: PhantomParams = {
  shoppingTimeMs: 45 * 60_000,
  minUnexplainedUnits: 1,
  windowMs: 60 * 60_000,
  clearAfterExplainedUnits: 3,
  lateDropGraceMs: 2 * 60_000,
  restockMaskUnits: 3,
  restockMaskMs: 22 * 60_000,
};

/** Per sku: the drops not yet matched to a sale, and the recent unexplained sales. Bounded by `MAX_KEPT`. */
export type PhantomState = {
  /** units taken from the sku's facings, not matched to a sale yet: [at, units, explains sales until] oldest first */
  drops: Array<[number, number, number]>;
  /** units sold that no drop explained: [at, units] oldest first */
  unexplained: Array<[number, number]>;
  phantom: boolean;
  /** units explained by drops since the sku turned phantom */
  explainedSincePhantom: number;
};

/** The most drops or sales kept per sku: a burst beyond it is summarized by its newest entries. */
const MAX_KEPT = 256;

export function emptyPhantomState(): PhantomState {
  return { drops: [], unexplained: [], phantom: false, explainedSincePhantom: 0 };
}

export type PhantomVerdict = { changed: false } | { changed: true; phantom: boolean; unexplainedUnits: number };

/**
 * A facing of the sku lost `units` at `at` (its weight went down): it explains a sale just before it, or one to come
 * within `explainsForMs` (the shopping time).
 */
export function observeDrop(
  state: PhantomState,
  units: number,
  at: number,
  params: PhantomParams,
  explainsForMs: number = params.shoppingTimeMs,
): void {
  let left = units;
  while (left > 0 && state.unexplained.length > 0) {
    const newest = state.unexplained[state.unexplained.length - 1] as [number, number];
    if (newest[0] < at - params.lateDropGraceMs) break;
    const used = Math.min(left, newest[1]);
    newest[1] -= used;
    left -= used;
    if (newest[1] === 0) state.unexplained.pop();
  }
  if (left <= 0) return;
  state.drops.push([at, left, at + explainsForMs]);
  if (state.drops.length > MAX_KEPT) state.drops.shift();
}

/**
 * A facing of the sku was restocked at `at` (its units went up): a take just before it may be hidden in the jump, so
 * up to `restockMaskUnits` of sales around it count as explained — and so do the units the refilled facing is short
 * of its capacity (`shortfallUnits`): staff fill it up, so on a busy facing those were taken while the weight settled.
 */
export function observeRestock(state: PhantomState, at: number, params: PhantomParams, shortfallUnits = 0): void {
  observeDrop(state, params.restockMaskUnits + Math.max(0, shortfallUnits), at, params, params.restockMaskMs);
}

/**
 * A kiosk sold `units` of the sku at `at`. Matches the sale against the drops of the shopping time before it, and
 * says whether the sku's phantom verdict changed — or, while it is phantom, that more units went unexplained (the
 * alert's count of them grows).
 */
export function observeSale(state: PhantomState, units: number, at: number, params: PhantomParams): PhantomVerdict {
  forget(state, at, params);
  let left = units;
  while (left > 0 && state.drops.length > 0) {
    const oldest = state.drops[0] as [number, number, number];
    const used = Math.min(left, oldest[1]);
    oldest[1] -= used;
    left -= used;
    if (oldest[1] === 0) state.drops.shift();
  }
  const explained = units - left;
  if (left > 0) {
    state.unexplained.push([at, left]);
    if (state.unexplained.length > MAX_KEPT) state.unexplained.shift();
  }
  const unexplainedUnits = state.unexplained.reduce((sum, [, n]) => sum + n, 0);
  if (!state.phantom && unexplainedUnits >= params.minUnexplainedUnits) {
    state.phantom = true;
    state.explainedSincePhantom = 0;
    return { changed: true, phantom: true, unexplainedUnits };
  }
  if (state.phantom) {
    if (left > 0) return { changed: true, phantom: true, unexplainedUnits };
    state.explainedSincePhantom += explained;
    if (state.explainedSincePhantom >= params.clearAfterExplainedUnits) {
      state.phantom = false;
      state.unexplained = [];
      return { changed: true, phantom: false, unexplainedUnits: 0 };
    }
  }
  return { changed: false };
}

/** Drops past their time explain no later sale; unexplained sales older than the window are forgiven. */
function forget(state: PhantomState, at: number, params: PhantomParams): void {
  // in place: a restock's mask may end before an older drop does (at most MAX_KEPT entries, once per kiosk sale)
  let kept = 0;
  for (const drop of state.drops) if (drop[2] >= at) state.drops[kept++] = drop;
  state.drops.length = kept;
  while (state.unexplained.length > 0 && (state.unexplained[0] as [number, number])[0] < at - params.windowMs) state.unexplained.shift();
}
