import type { SqlDatabase, SqlStatement } from '../sql.js';
import type { SyncPg } from './sync-client.js';

/**
 * The store's SQL on PostgreSQL: the subset of better-sqlite3's interface the
 * store uses (prepare/run/get/all, transaction().immediate(), exec, the
 * user_version pragma), so that the store's queries are written once. The
 * few differences of dialect are translated once per statement text:
 * `?` and `@name` parameters become `$n`, camelCase aliases are quoted (the
 * rows keep their keys), `INSERT OR IGNORE` becomes `ON CONFLICT DO NOTHING`.
 *
 * A write transaction takes a transaction-level advisory lock first: writers
 * on one store are serialised as SQLite serialises them (a read-modify-write
 * such as the notification sequence stays correct across hosts), readers are
 * never blocked.
 */

/** pg_advisory_xact_lock key of the store's write lock ('nbwssWRT'). */
export const WRITE_LOCK_KEY = 0x6e627773_575254n.toString();

/** How long a writer waits for another's write lock by default (SQLite's busy timeout in the CLI: 30 s). */
export const DEFAULT_LOCK_WAIT_MS = 30_000;

interface Translated {
  text: string;
  /** Named parameters in $n order, or undefined for positional ones. */
  names: string[] | undefined;
}

const cache = new Map<string, Translated>();

export function translate(sql: string): Translated {
  const hit = cache.get(sql);
  if (hit) return hit;
  let text = sql.replace(/\bAS ([a-z][a-z0-9]*[A-Z][A-Za-z0-9]*)\b/g, 'AS "$1"');
  if (/\bINSERT OR IGNORE INTO\b/.test(text)) text = `${text.replace(/\bINSERT OR IGNORE INTO\b/, 'INSERT INTO').trimEnd()} ON CONFLICT DO NOTHING`;
  let names: string[] | undefined;
  if (/@[A-Za-z]\w*/.test(text)) {
    names = [];
    const index = new Map<string, number>();
    text = text.replace(/@([A-Za-z]\w*)/g, (_m, name: string) => {
      let i = index.get(name);
      if (i === undefined) {
        names!.push(name);
        i = names!.length;
        index.set(name, i);
      }
      return `$${i}`;
    });
  } else {
    let placeholders = 0;
    text = text.replace(/\?/g, () => `$${++placeholders}`);
  }
  const translated = { text, names };
  if (cache.size >= 1000) cache.clear(); // statements are few; many-row INSERTs vary in length
  cache.set(sql, translated);
  return translated;
}

const value = (v: unknown) => (v === undefined ? null : v);

function params(translated: Translated, args: unknown[]): unknown[] {
  if (translated.names) {
    const fields = (args[0] ?? {}) as Record<string, unknown>;
    return translated.names.map((n) => value(fields[n]));
  }
  return args.map(value);
}

export class PgDatabase implements SqlDatabase {
  private depth = 0;

  constructor(readonly pg: SyncPg) {}

  prepare(sql: string): SqlStatement {
    const translated = translate(sql);
    return {
      run: (...args: unknown[]) => ({ changes: this.pg.query(translated.text, params(translated, args)).rowCount }),
      get: (...args: unknown[]) => this.pg.query(translated.text, params(translated, args)).rows[0],
      all: (...args: unknown[]) => this.pg.query(translated.text, params(translated, args)).rows,
    };
  }

  /** How long a write waits for another writer's lock (ms); past it the statement fails with 55P03 (lock_not_available). */
  lockWaitMs = DEFAULT_LOCK_WAIT_MS;

  transaction<T>(fn: () => T): { immediate(): T } {
    return {
      immediate: () => {
        if (this.depth > 0) return fn();
        this.depth++;
        try {
          // One round trip when nobody else writes: BEGIN and the lock in one simple query (the key is a constant).
          const free = this.pg.query(`BEGIN; SELECT pg_try_advisory_xact_lock(${WRITE_LOCK_KEY}::bigint) AS ok`).rows[0]?.ok === true;
          try {
            if (!free) {
              // Another writer holds it: wait as SQLite's busy timeout does, at most lockWaitMs.
              this.pg.query("SELECT set_config('lock_timeout', $1, true)", [`${this.lockWaitMs}ms`]);
              this.pg.query('SELECT pg_advisory_xact_lock($1::bigint)', [WRITE_LOCK_KEY], this.lockWaitMs + 5000); // the server's lock_timeout ends the wait first
            }
            const result = fn();
            this.pg.query('COMMIT');
            return result;
          } catch (e) {
            try {
              this.pg.query('ROLLBACK');
            } catch {
              // the connection is gone; the server rolls back
            }
            throw e;
          }
        } finally {
          this.depth--;
        }
      },
    };
  }

  exec(sql: string): this {
    this.pg.query(sql);
    return this;
  }

  /** The pragmas the store asks: the schema version; the rest mean nothing here. */
  pragma(source: string): unknown {
    if (source === 'user_version') return (this.pg.query('SELECT version FROM nbwss_schema').rows[0]?.version as number | undefined) ?? 0;
    if (source === 'integrity_check') return 'ok';
    return undefined;
  }

  close(): void {
    this.pg.close();
  }
}
