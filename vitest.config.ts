import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Slow suites (faults, cluster, browser) run only when S2P_SLOW_TESTS=1 (set by .ci/run).
    reporters: ['default'],
  },
});
