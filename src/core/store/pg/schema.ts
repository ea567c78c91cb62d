import { newStoreId } from '../store-id.js';
import { NbwssError } from '../../errors.js';
import { ENTRIES, OUTBOX, PG_SCHEMA_VERSION, POLL_STATE, render, SHARED_ONLY, SHARED_STEPS } from '../schema.js';
import type { PgDatabase } from './database.js';

/**
 * The PostgreSQL store's schema steps, from the one definition (../schema.ts):
 * 1 is the SQLite store's tables as of its version 4 and the shared store's
 * own (`secrets`, `daemons`); every later step is a shared step, applied by
 * both backends. Applied in order under a lock, so hosts may start at once.
 */
/** pg_advisory_xact_lock key of migrations ('nbwssMIG'): several processes starting at once migrate one after another. */
const MIGRATION_LOCK_KEY = 0x6e627773_4d4947n.toString();

/** Each entry is one schema step; the index + 1 is the version it leads to. */
export const PG_MIGRATIONS: readonly string[] = [
  render(ENTRIES + OUTBOX + POLL_STATE + SHARED_ONLY, 'postgres'),
  ...SHARED_STEPS.map((step) => render(step, 'postgres')),
];

/** Create the schema, or bring an older one up to date; safe when several processes start at once. */
export function pgMigrate(db: PgDatabase, where: string): void {
  const query = (sql: string, p?: unknown[]) => db.pg.query(sql, p);
  query('BEGIN');
  try {
    query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    query('CREATE TABLE IF NOT EXISTS nbwss_schema (version integer NOT NULL)');
    const version = (query('SELECT version FROM nbwss_schema').rows[0]?.version as number | undefined) ?? 0;
    if (version > PG_SCHEMA_VERSION)
      throw new NbwssError('STORE', `The store ${where} has schema version ${version}, newer than this nbwss understands (${PG_SCHEMA_VERSION})`, {
        hint: 'Upgrade nbwss on this host: every host of a shared store runs the same version.',
      });
    for (let step = version; step < PG_SCHEMA_VERSION; step++) query(PG_MIGRATIONS[step]!);
    if (version === 0) {
      query('INSERT INTO meta (key, value) VALUES ($1, $2)', ['store_id', newStoreId()]);
      query('INSERT INTO nbwss_schema (version) VALUES ($1)', [PG_SCHEMA_VERSION]);
    } else if (version < PG_SCHEMA_VERSION) query('UPDATE nbwss_schema SET version = $1', [PG_SCHEMA_VERSION]);
    query('COMMIT');
  } catch (e) {
    try {
      query('ROLLBACK');
    } catch {
      // gone
    }
    throw e;
  }
}
