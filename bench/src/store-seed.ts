// Seeding a store through its own API, for the benchmarks and the tests that
// need many entries (bench/src/, built to dist/store-seed.cjs by npm run build; not part
// of the package): no schema is repeated outside src/core/store.
import { EndpointStore } from '../../src/core/store/db.js';
import { queueNotifications } from '../../src/core/services/notify.js';

/** Add `n` ACTIVATED entries (two per group, priorities 1 and 2) pinned to `certPem`. */
export function seedEntries(home: string, n: number, certPem: string): void {
  const store = EndpointStore.open(home);
  try {
    const now = new Date().toISOString();
    store.write(() => {
      for (let i = 0; i < n; i++) {
        const host = `host${String(i).padStart(4, '0')}.bench.test`;
        store.endpoints.insert(
          {
            hostName: host,
            url: `wss://${host}:8443/nbwss`,
            groupId: `group${Math.floor(i / 2)}`,
            priority: (i % 2) + 1,
            state: 'ACTIVATED',
            pinType: 'cert',
            certPem,
            fingerprint: `${'AA:'.repeat(31)}AA`,
            spkiFingerprint: `${'BB:'.repeat(31)}BB`,
            notAfter: '2030-01-01T00:00:00.000Z',
          },
          now,
        );
      }
    });
  } finally {
    store.close();
  }
}

/**
 * Queue notifications through the store's API, as nbwss notify does
 * (durable), without a process per call: for bench:notify, which measures
 * the daemon's side from the commit on.
 */
export function queueJobs(home: string, firstJobId: number, n: number): { queued: number } {
  const items = Array.from({ length: n }, (_, i) => ({
    object: 'JOB' as const,
    data: JSON.stringify({
      jobId: firstJobId + i,
      parentJobId: firstJobId + i,
      jobType: 'BACKUP',
      state: 'DONE',
      status: 0,
      startTime: 1459829674,
      policyName: 'bench',
      policyType: 'VMWARE',
      scheduleType: 'ST_FULL',
      clientName: 'bench-client',
    }),
  }));
  const store = EndpointStore.open(home, { durable: true });
  try {
    return { queued: queueNotifications(store, items, 100_000_000).queued.length };
  } finally {
    store.close();
  }
}
