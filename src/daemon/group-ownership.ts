import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SecretStore } from '../core/secrets/index.js';
import { KeyRefused } from '../core/secrets/db.js';
import type { EndpointStore } from '../core/store/db.js';
import type { Logger } from './connection.js';
import type { ConnectionStates } from './connection-states.js';
import { Coordinator, type CoordinatorOptions } from './coordinator.js';
import type { Deliveries } from './delivery.js';
import type { Poller } from './poller.js';

/** What a daemon on a shared store lends the coordinator: its parts, and how to (re)plan its connections. */
export interface OwnershipHost {
  store: EndpointStore;
  secrets: SecretStore;
  log: Logger;
  deliveries: Deliveries;
  states: ConnectionStates;
  poller: Poller;
  now(): Date;
  /** Read the store and apply the plan (connects the groups taken, closes the ones let go). */
  reconcile(): Promise<void>;
  /** Resolves once every connection of the group (open, closing or being tried) is down. */
  closed(groupId: string): Promise<void>;
}

export type CoordinationTimings = Pick<CoordinatorOptions, 'heartbeatMs' | 'fenceMs' | 'graceMs' | 'settleMs'>;

/**
 * The coordinator of a daemon on a shared store, wired to the daemon: a group taken has its connection states reset and
 * its outbox adopted; a group let go is closed before its lock is released; the store's LISTEN messages pump the
 * deliveries or reconcile; the poller runs where the poller lock is held; a key file that does not open the tokens
 * takes no group.
 */
export function coordinatorFor(url: string, host: OwnershipHost, timings: CoordinationTimings = {}): Coordinator {
  let ownedSeen = new Set<string>();
  return new Coordinator({
    url,
    log: host.log,
    ...timings,
    ...(process.env.NBWSS_TEST_HOOKS === '1' ? testHooks(host.store.home) : {}),
    candidates: () => [...new Set(host.store.endpoints.list({ state: 'ACTIVATED' }).map((r) => r.groupId))].sort(),
    owned: (groups) => {
      const now = host.now().toISOString();
      for (const groupId of groups) {
        if (ownedSeen.has(groupId)) continue;
        // First, and whatever the store says: nothing goes to the group until its message in flight is read (delivery.ts).
        host.deliveries.adopt(groupId);
        try {
          host.store.write(() => host.store.endpoints.resetGroupConnections(groupId, now));
        } catch (e) {
          host.log.error({ err: (e as Error).message }, 'could not take over the state of a group');
        }
      }
      for (const groupId of ownedSeen) if (!groups.has(groupId)) host.deliveries.forget(groupId);
      ownedSeen = new Set(groups);
      host.log.info({ groups: groups.size }, 'serving server groups of the shared store');
      void host.reconcile();
    },
    release: async (groupId) => {
      await host.reconcile();
      await host.closed(groupId);
      host.deliveries.forget(groupId);
      host.states.forgetGroup(groupId);
    },
    message: (what) => {
      if (what === 'notify') host.deliveries.pumpAll();
      else void host.reconcile();
    },
    poller: (held) => host.poller.setActive(held),
    keyOk: () => {
      try {
        host.secrets.probe({ create: false });
        return true;
      } catch (e) {
        // Only a key that does not open the tokens says no; a store that does not answer says nothing yet.
        return e instanceof KeyRefused ? false : undefined;
      }
    },
  });
}

/**
 * Tests only (NBWSS_TEST_HOOKS=1): while the file test-fail-coordination exists in the home, coordination rounds fail
 * on a healthy session; NBWSS_TEST_SETTLE_MS shortens the wait after a start (the suites that run the single-daemon
 * tests on PostgreSQL, where nothing else could be starting, set it to 0; the shared-store tests keep the real one).
 */
function testHooks(home: string): Pick<CoordinatorOptions, 'failRound' | 'settleMs'> {
  const settle = Number(process.env.NBWSS_TEST_SETTLE_MS);
  return {
    failRound: () => existsSync(join(home, 'test-fail-coordination')),
    ...(process.env.NBWSS_TEST_SETTLE_MS && Number.isFinite(settle) && settle >= 0 ? { settleMs: settle } : {}),
  };
}
