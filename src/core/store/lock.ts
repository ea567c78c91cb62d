import type Database from 'better-sqlite3';
import { NbwssError } from '../errors.js';
import { tightenFile } from './fs.js';
import { openDatabase } from './sqlite.js';

/**
 * A cross-process lock: an exclusive SQLite transaction on a small file.
 * The kernel drops it when a process dies, so a killed run never leaves a
 * stale lock. `busyTimeoutMs` 0 fails at once when someone else holds it.
 */
export function acquireLock(path: string, busyTimeoutMs: number): { release(): void } {
  let db: Database.Database | undefined;
  try {
    db = openDatabase(path);
    tightenFile(path);
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    db.exec('BEGIN EXCLUSIVE');
  } catch (e) {
    db?.close();
    if (e instanceof NbwssError) throw e;
    throw Object.assign(
      new NbwssError('STORE', `Cannot lock ${path}: ${(e as Error).message}`, { hint: 'Another nbwss run held the lock too long; try again.', cause: e }),
      { busy: (e as { code?: string }).code === 'SQLITE_BUSY' },
    );
  }
  const held = db;
  return {
    release() {
      held.exec('COMMIT');
      held.close();
    },
  };
}

/** Run fn holding the lock at `path`. */
export function withLock<T>(path: string, fn: () => T, busyTimeoutMs = 30_000): T {
  const lock = acquireLock(path, busyTimeoutMs);
  try {
    return fn();
  } finally {
    lock.release();
  }
}
