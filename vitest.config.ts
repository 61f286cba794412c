import { defineConfig } from 'vitest/config';

/**
 * Three projects by what a test needs: `unit` (pure, fast), `integration` (real Redis and
 * Elasticsearch; `*.int.test.ts`), `e2e` (headless Chromium; `*.e2e.test.ts`). The global setup
 * makes sure Redis and Elasticsearch are up before the latter two run.
 */
export default defineConfig({
  test: {
    // Integration and browser files each run the whole product; two cores run them one at a time.
    fileParallelism: false,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.int.test.ts'],
          globalSetup: ['tests/support/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 240_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.e2e.test.ts'],
          globalSetup: ['tests/support/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 240_000,
        },
      },
    ],
  },
});
