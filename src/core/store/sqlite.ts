import { createRequire } from 'node:module';
import Database from 'better-sqlite3';

let nativeBinding: string | undefined;

/** Statements kept per database (the store's SQL is a fixed set; a many-row INSERT varies by its row count). */
export const STATEMENT_CACHE_SIZE = 100;

/**
 * Open a SQLite database with better-sqlite3, naming its native addon
 * directly: the default lookup (the `bindings` package) probes a dozen paths
 * on every start, which a CLI run in loops and completions can feel.
 *
 * prepare() keeps what it compiled: the daemon runs the same few statements for every acknowledgement and batch, and
 * compiling each again was a measurable part of its per-event cost (`npm run bench:notify`). Safe because nbwss sets
 * no statement mode (raw, pluck, expand) and never iterates: a statement is run to completion before the next use.
 */
export function openDatabase(path: string, options: Database.Options = {}): Database.Database {
  nativeBinding ??= createRequire(import.meta.url).resolve('better-sqlite3/build/Release/better_sqlite3.node');
  const db = new Database(path, { nativeBinding, ...options });
  const compile = db.prepare.bind(db);
  const statements = new Map<string, Database.Statement>();
  db.prepare = ((sql: string) => {
    let st = statements.get(sql);
    if (!st) {
      if (statements.size >= STATEMENT_CACHE_SIZE) statements.clear();
      st = compile(sql);
      statements.set(sql, st);
    }
    return st;
  }) as Database.Database['prepare'];
  return db;
}

export type { Database };
