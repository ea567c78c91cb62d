/**
 * The part of a SQL database the store uses: better-sqlite3's Database has
 * this shape, and so has the PostgreSQL adapter (pg/database.ts), so the
 * store's queries are written once for both backends.
 */
export interface SqlStatement {
  run(...params: unknown[]): { changes: number };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

export interface SqlDatabase {
  prepare(sql: string): SqlStatement;
  transaction<T>(fn: () => T): { immediate(): T };
  exec(sql: string): unknown;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  close(): void;
}
