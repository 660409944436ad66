/**
 * The long form of the fault suite (`npm run test:faults`): the same tests as in `npm test`, with more
 * kill rounds per command and more fuzzing runs (see test/faults/helpers.ts).
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // *.faults.ts: long-form-only tests (the grid kill test), outside npm test's include pattern
    include: ['test/faults/**/*.test.ts', 'test/faults/**/*.faults.ts'],
    environment: 'node',
    testTimeout: 600_000,
    hookTimeout: 300_000,
    pool: 'forks',
    reporters: ['default'],
    env: { CLEAVE_FAULT_ROUNDS: '6', CLEAVE_FAULT_RUNS: '3000' },
  },
});
