import { join } from 'node:path';
import { NbwssError } from '../errors.js';
import { W } from '../hints.js';

/** The SQLite store's file in NBWSS_HOME. */
export const DB_FILE = 'nbwss.db';

/**
 * Another writer held the store's write lock longer than this connection
 * waits (SQLite's busy timeout, PostgreSQL's lock_timeout). The CLI waits
 * 30 s and then says so; the daemon waits briefly and writes again on a
 * later tick, so that its event loop is never held by another process.
 */
export class StoreBusy extends NbwssError {}

/** SQLite's busy answer and PostgreSQL's lock_not_available (lock_timeout). */
export const isBusyCode = (code: string | undefined): boolean => code === 'SQLITE_BUSY' || code === '55P03';

export function storeError(what: string, err: unknown): NbwssError {
  const code = (err as { code?: string }).code;
  if (isBusyCode(code))
    return new StoreBusy('STORE', `${what}: another nbwss run holds the store's write lock`, {
      hint: 'Another nbwss run held the store too long; try again.',
      cause: err,
    });
  const hint =
    code === 'SQLITE_BUSY'
      ? 'Another nbwss run held the store too long; try again.'
      : code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB'
        ? `The store file is damaged; restore it from a backup (${W.doctor} checks it).`
        : code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY'
          ? `The store cannot be opened here: is ${W.homeVar} on a read-only mount? (${W.doctor} checks it)`
          : `Check that ${W.homeVar} is writable and the disk is not full.`;
  return new NbwssError('STORE', `${what}: ${(err as Error).message}`, { hint, cause: err });
}

/** A read that fails (a damaged file, a read-only mount without the WAL index) is a store error, exit 8, not a bug. */
export function reading<T>(home: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof NbwssError) throw e;
    throw storeError(`Cannot read the store ${join(home, DB_FILE)}`, e);
  }
}
