import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // builds the runnable gateway once per run for tests that start it as a child process (tests/helpers/built-gateway.ts)
    globalSetup: ['./tests/global-setup.ts'],
    // integration tests start real servers; two workers fit the 2-core CI machine
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default', './tests/plain-summary-reporter.ts'],
  },
});
