import { createRequire } from 'node:module';
import Database from 'better-sqlite3';

let nativeBinding: string | undefined;

/**
 * Open a SQLite database with better-sqlite3, naming its native addon
 * directly: the default lookup (the `bindings` package) probes a dozen paths
 * on every start, which a CLI run in loops and completions can feel.
 */
export function openDatabase(path: string, options: Database.Options = {}): Database.Database {
  nativeBinding ??= createRequire(import.meta.url).resolve('better-sqlite3/build/Release/better_sqlite3.node');
  return new Database(path, { nativeBinding, ...options });
}

export type { Database };
