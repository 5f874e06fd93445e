// "Fetch again once the store has been quiet for a moment, but never wait longer than this": a debounce with a
// longest wait, so a busy store (a stock event every second, all day) still gets a fresh pick list and facing chart
// every few seconds.

export type SettledRefresh = { changed(): void; cancel(): void };

export function settledRefresh(run: () => void, quietMs: number, atMostMs: number, now: () => number = Date.now): SettledRefresh {
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** when the first change not yet run for came (undefined: none waiting) */
  let waitingSince: number | undefined;
  return {
    changed() {
      const at = now();
      waitingSince ??= at;
      clearTimeout(timer);
      timer = setTimeout(
        () => {
          waitingSince = undefined;
          timer = undefined;
          run();
        },
        Math.max(0, Math.min(quietMs, waitingSince + atMostMs - at)),
      );
    },
    cancel() {
      clearTimeout(timer);
      timer = undefined;
      waitingSince = undefined;
    },
  };
}
