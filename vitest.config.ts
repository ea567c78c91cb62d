import { defineConfig } from 'vitest/config';
import { WaitingFirst } from './test/sequencer.js';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores, three files at a time: end-to-end files spawn many CLI processes each, and about a quarter of the
    // run's time both cores were idle with two workers (faults waited out, polls a second apart). The file that waits
    // longest (a 3-minute outage) starts first and waits beside the others (test/sequencer.ts).
    maxWorkers: 3,
    sequence: { sequencer: WaitingFirst },
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'sqlite', include: ['test/**/*.test.ts'] } },
      {
        // The store, CLI and daemon suites once more, each test home a database of a throwaway
        // PostgreSQL (NBWSS_STORE): the CLI and the daemon must not care which store they talk to.
        // Left out: suites about the SQLite file itself (ownership, permissions, damage, schema
        // migrations), the keychain, the shell and packaging, which never depend on the backend.
        extends: true,
        test: {
          name: 'postgres',
          include: [
            'test/e2e/manage.test.ts',
            'test/e2e/token.test.ts',
            'test/e2e/notify.test.ts',
            'test/e2e/daemon.test.ts',
            'test/e2e/poll.test.ts',
            'test/e2e/command.test.ts',
            'test/e2e/add.test.ts',
          ],
          globalSetup: ['test/pg-global-setup.ts'],
        },
      },
    ],
  },
});
