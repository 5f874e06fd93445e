/**
 * The demo's faults for the insight room (issue 24): four facings of the demo planogram, each with steady shoppers of
 * its own (random shoppers leave them alone), so each new alert kind shows within a few minutes of `npm run demo`
 * with config/demo.yaml's insight section (lead time 2 min, 2 min of watching, a look every 15 s, no-sales before the
 * store's traffic is learned). Times count from the simulation's start and are divided by its speed.
 */

/** A facing of the planogram as `shelfId/facing`. */
export type FacingRef = `${string}/${number}`;

export type InsightFaultPlan = {
  /** its product sells at the kiosks from a second placement, the facing's weight never moves: phantom-stock */
  misplaced: { facing: FacingRef; sellEveryMs: number; fromMs: number };
  /**
   * shoppers take one every `takeEveryMs` and pay; its load cell sticks from `fromMs` for `forMs`, again every
   * `periodMs`: scale-stuck (and phantom-stock: the kiosk sells what the shelf does not show leaving)
   */
  stuck: { facing: FacingRef; takeEveryMs: number; fromMs: number; forMs: number; periodMs: number };
  /** one taken every `takeEveryMs` from the start: stock-out-predicted comes before the facing is low */
  fast: { facing: FacingRef; takeEveryMs: number };
  /** one taken every `takeEveryMs`; blocked (a pallet in front) from `fromMs` for `forMs`, again every `periodMs`: no-sales */
  blocked: { facing: FacingRef; takeEveryMs: number; fromMs: number; forMs: number; periodMs: number };
};

/**
 * config/planogram.demo.yaml: hazelnut spread misplaced, toothpaste's cell stuck, milk chocolate selling fast, dark
 * chocolate blocked. The blocked facing sells 15 before its block (no-sales trusts a pace after 10) and holds 9 during it.
 */
export const DEMO_INSIGHT_FAULTS: InsightFaultPlan = {
  misplaced: { facing: 'shelf-02/5', sellEveryMs: 45_000, fromMs: 20_000 },
  stuck: { facing: 'shelf-04/6', takeEveryMs: 20_000, fromMs: 60_000, forMs: 240_000, periodMs: 20 * 60_000 },
  fast: { facing: 'shelf-03/3', takeEveryMs: 15_000 },
  blocked: { facing: 'shelf-03/4', takeEveryMs: 10_000, fromMs: 150_000, forMs: 360_000, periodMs: 20 * 60_000 },
};

/**
 * The demo's shoppers walk to a kiosk this long after taking: longer than the stock pipeline's rolling median takes
 * to show a take (3 readings at 1 s), as in a store, so a healthy facing's sale never looks unexplained.
 */
export const DEMO_CHECKOUT_DELAY_MS = 15_000;

/** The plan's facings that the planogram lacks (a demo run on another planogram runs without the faults). */
export function missingFaultFacings(plan: InsightFaultPlan, has: (shelfId: string, facing: number) => boolean): FacingRef[] {
  const refs = [plan.misplaced.facing, plan.stuck.facing, plan.fast.facing, plan.blocked.facing];
  return refs.filter((ref) => {
    const slash = ref.lastIndexOf('/');
    return !has(ref.slice(0, slash), Number(ref.slice(slash + 1)));
  });
}

/** Whether a repeating window (from `fromMs`, `forMs` long, every `periodMs`) holds at `elapsedMs` since the start. */
export function inFaultWindow(elapsedMs: number, window: { fromMs: number; forMs: number; periodMs: number }): boolean {
  if (elapsedMs < window.fromMs) return false;
  return (elapsedMs - window.fromMs) % window.periodMs < window.forMs;
}
