import { afterAll, beforeAll } from 'vitest';
import { type Postgres, postgresAvailable, startPostgres } from '../../src/reference-endpoint/postgres.js';
import { type Home, newHome } from './cli.js';

// The throwaway PostgreSQL lives beside the other stand-ins (the benchmarks use it too).
export { type Postgres, postgresAvailable, startPostgres };

/**
 * A throwaway PostgreSQL for a test file: started before its tests, removed
 * after. Under CI=true a machine without it is a failure, not a skip.
 */
export function useSharedPostgres(): { available: boolean; server(): Postgres } {
  const available = postgresAvailable();
  if (!available && process.env.CI === 'true') throw new Error('PostgreSQL (Debian postgresql) is required under CI=true');
  let server: Postgres | undefined;
  beforeAll(async () => {
    if (available) server = await startPostgres();
  }, 60_000);
  afterAll(() => server?.stop());
  return { available, server: () => server! };
}

/** A host of a shared store: its own NBWSS_HOME (properties, audit, socket), the store in PostgreSQL, the key file given. */
export function sharedHost(url: string, keyFile?: string): Home {
  const h = newHome({ NBWSS_STORE: url });
  if (keyFile) h.env.NBWSS_SECRET_KEY_FILE = keyFile;
  delete h.env.NBWSS_SECRET_STORE;
  return h;
}
