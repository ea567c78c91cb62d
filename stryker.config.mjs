// npm run mutate: StrykerJS over the core and the daemon, with the fast tests
// of vitest.mutate.config.ts. Slow (minutes): not part of npm test or CI.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutate.config.ts' },
  mutate: [
    'src/core/endpoint/**/*.ts',
    'src/core/tls/**/*.ts',
    'src/core/secrets/file.ts',
    'src/core/secrets/index.ts',
    'src/core/text.ts',
    'src/core/services/**/*.ts',
    'src/core/store/**/*.ts',
    'src/daemon/**/*.ts',
  ],
  coverageAnalysis: 'perTest',
  concurrency: 2,
  timeoutMS: 20_000,
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: '.tmp/mutation.json' },
  tempDirName: '.tmp/stryker',
  cleanTempDir: true,
  thresholds: { high: 80, low: 60, break: null },
};
