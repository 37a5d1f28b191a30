import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    pool: 'forks',
    // Generous: a test that spawns processes takes several times longer on a machine kept busy by others.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Slow suites (faults, cluster, browser) run only when S2P_SLOW_TESTS=1 (set by .ci/run).
    reporters: ['default'],
  },
});
