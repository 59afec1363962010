import { defineConfig } from 'vitest/config';

// Three projects: `unit` (beside the code, seconds), `integration` (real services on loopback),
// `e2e` (Keycloak and the browser). `npm test` provisions the Debian components first (test/run.mjs).
const slow = { testTimeout: 900_000, hookTimeout: 900_000 };

export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default', './test/support/plain-summary.ts'],
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts', 'plugin/**/*.ts'],
      exclude: ['**/*.test.ts', '**/store-contract-suite.ts', '**/fixtures.ts'],
      reporter: ['text-summary', 'text', 'html'],
    },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'plugin/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/harness/**/*.test.ts'],
          ...slow,
        },
      },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], ...slow } },
    ],
  },
});
