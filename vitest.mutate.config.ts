import { defineConfig } from 'vitest/config';

// The fast tests of the core, for mutation testing (npm run mutate): unit and
// in-process tests only, none of the end-to-end runs of the built CLI.
export default defineConfig({
  test: {
    include: ['test/core/**/*.test.ts'],
    exclude: ['test/core/corpus.test.ts'],
    testTimeout: 30_000,
    pool: 'forks',
  },
});
