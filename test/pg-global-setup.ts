import type { TestProject } from 'vitest/node';
import { startPostgres } from '../src/reference-endpoint/postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The port of the throwaway PostgreSQL of the 'postgres' project (test/helpers/cli.ts, newHome). */
    pgPort: number;
  }
}

/**
 * The 'postgres' project (vitest.config.ts): one throwaway cluster for the
 * run; every new test home gets its own database in it.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  const server = await startPostgres();
  project.provide('pgPort', server.port);
  return () => server.stop();
}
