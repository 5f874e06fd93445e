import type { Reporter, SerializedError, TestModule, TestRunEndReason } from 'vitest/node';

export type RunCounts = { passed: number; failed: number; skipped: number };

/**
 * Counts a run the way CI must read it. A test counts by its state; beyond that, each module that failed to load and
 * each suite whose beforeAll/afterAll hook failed counts as one failure (vitest reports those errors on the module or
 * suite, and skips the tests the hook guarded), and so does each unhandled error. Otherwise a run with a broken file
 * would end "N passed, 0 failed" while vitest exits non-zero.
 */
export function countRun(
  testModules: ReadonlyArray<TestModule>,
  unhandledErrors: ReadonlyArray<SerializedError>,
  reason: TestRunEndReason,
): RunCounts {
  const counts: RunCounts = { passed: 0, failed: unhandledErrors.length, skipped: 0 };
  for (const module of testModules) {
    if (module.errors().length > 0) counts.failed++;
    for (const suite of module.children.allSuites()) if (suite.errors().length > 0) counts.failed++;
    for (const test of module.children.allTests()) {
      const state = test.result().state;
      if (state === 'passed') counts.passed++;
      else if (state === 'failed') counts.failed++;
      else counts.skipped++;
    }
  }
  // a failure vitest saw but did not pin on a module, suite or test (e.g. no test files matched): still not "0 failed"
  if (reason === 'failed' && counts.failed === 0) counts.failed = 1;
  return counts;
}

/** Ends the run with one plain line, `N passed, N failed, N skipped`, that any CI log reader understands. */
export default class PlainSummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>, reason: TestRunEndReason): void {
    const { passed, failed, skipped } = countRun(testModules, unhandledErrors, reason);
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
