// npm run mutate: StrykerJS over the core and the daemon, with the fast tests
// of vitest.mutate.config.ts. Slow (minutes): not part of npm test or CI.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutate.config.ts' },
  // The pure core the fast tests cover: details and URL rules, the JSON parser, host identity,
  // certificates and pins, the file secret store, text escaping, and the daemon's decisions (planner, the
  // shared store's division of groups, the status of its groups).
  // (Services, the store, the details URL fetch and the daemon's I/O are covered by the
  // end-to-end suite instead: mutating them with network tests per mutant takes hours here.)
  mutate: [
    'src/core/endpoint/**/*.ts',
    '!src/core/endpoint/remote.ts',
    'src/core/tls/**/*.ts',
    'src/core/secrets/file.ts',
    'src/core/secrets/index.ts',
    'src/core/text.ts',
    'src/daemon/plan.ts',
    'src/daemon/share.ts',
    'src/daemon/status.ts',
    'src/daemon/delivery.ts',
    'src/daemon/delivery-rules.ts',
    'src/daemon/connection-states.ts',
    'src/daemon/orphaned-outboxes.ts',
    'src/daemon/rest-lifecycle.ts',
    'src/daemon/targets.ts',
    'src/daemon/control-server.ts',
    'src/core/store/outbox.ts',
    'src/core/api/command.ts',
    'src/core/notify/notification.ts',
    'src/core/poll/map.ts',
    'src/core/notify/scripts.ts',
    'src/core/api/version.ts',
    'src/core/poll/paging.ts',
    'src/daemon/store-retry.ts',
    'src/core/store/schema.ts',
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
