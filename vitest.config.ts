import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vitest/config';

// Three projects: unit tests are pure and fast; integration tests boot real QEMU guests under TCG;
// e2e tests drive the real renderer in Chromium against a real xend in web mode. The last two
// run one file at a time (2-core machines) with generous per-test timeouts that only
// bound a hang: the tests themselves wait for events, never for fixed delays.
export default defineConfig({
  test: {
    projects: [
      {
        // The Vue plugin lets component tests mount .vue files (with happy-dom per file).
        plugins: [vue()],
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts', 'engine/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        // npm run bench: ratios against a baseline measured in the same run; not part of npm test.
        test: {
          name: 'bench',
          include: ['tests/bench/**/*.bench.test.ts'],
          environment: 'node',
          testTimeout: 300_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
