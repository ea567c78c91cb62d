import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { openDatabase } from './sqlite.js';
import { NbwssError } from '../errors.js';
import { assertStoreOwnership, ensurePrivateDir, tightenFile } from './fs.js';

import type { SecretBackendName } from './types.js';
import { W } from '../hints.js';
import { newStoreId } from './store-id.js';
import { Outbox } from './outbox.js';
import { PollState } from './poll.js';
import { ENTRIES, OUTBOX, PG_SCHEMA_VERSION, POLL_STATE, render, SHARED_STEPS } from './schema.js';
import { PgDatabase } from './pg/database.js';
import { pgMigrate } from './pg/schema.js';
import { SyncPg } from './pg/sync-client.js';
import type { SqlDatabase } from './sql.js';
import { SharedTables } from './shared.js';
import { DB_FILE, reading, storeError } from './store-errors.js';
import { canonicalizeHosts, Endpoints } from './endpoints.js';

export { DB_FILE, isBusyCode, StoreBusy } from './store-errors.js';

/** The tables `nbwss store copy` carries over, parents first (pins reference entries). */
export const COPY_TABLES = [
  'meta',
  'endpoints',
  'pinned_certificates',
  'notifications',
  'group_queues',
  'group_gaps',
  'deliveries',
  'group_stats',
  'poll_sources',
  'poll_jobs',
  'poll_images',
] as const;
export type CopyTable = (typeof COPY_TABLES)[number];

export type StoreBackend = { kind: 'sqlite' } | { kind: 'postgres'; url: string };

/** A store URL as it may be shown: never a password. */
export function safeStoreUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(not a valid URL)';
  }
}

/** NBWSS_STORE (or --store): a postgres:// URL for a shared store, else undefined (SQLite in NBWSS_HOME). */
export function storeUrl(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const value = flag ?? env.NBWSS_STORE;
  if (value === undefined || value === '') return undefined;
  if (!/^postgres(ql)?:\/\//.test(value))
    throw new NbwssError('USAGE', `${flag !== undefined ? '--store' : 'NBWSS_STORE'} must be a postgres:// URL, not "${safeStoreUrl(value)}"`, {
      hint: 'For example postgres://nbwss@db.example.com:5432/nbwss; without it the store is SQLite in NBWSS_HOME.',
    });
  if (new URL(value).password)
    throw new NbwssError('USAGE', 'The store URL holds a password: it would show in ps and in shell history', {
      hint: 'Give the password in PGPASSWORD or ~/.pgpass instead.',
    });
  return value;
}

export type { ConnectionState, EndpointRecord, EndpointRow, EndpointState, EndpointSummary, NewEndpoint, PinType, SecretBackendName } from './types.js';

/** Each entry is one schema step; the index + 1 is the user_version it leads to (the SQL is schema.ts's, written once for both backends). */
const MIGRATIONS: ((db: Database.Database) => void)[] = [
  (db) => {
    db.exec(render(ENTRIES, 'sqlite'));
    db.prepare(`INSERT INTO meta (key, value) VALUES ('store_id', ?)`).run(newStoreId());
  },
  // 2: host names in their canonical form (src/core/endpoint/host.ts). Names that
  // are one host are left as they are, for the administrator to choose (hostConflicts).
  (db) => canonicalizeHosts(db),
  // 3: the notification outbox (src/core/store/outbox.ts).
  (db) => db.exec(render(OUTBOX, 'sqlite')),
  // 4: what the REST API poller has seen (src/core/store/poll.ts).
  (db) => db.exec(render(POLL_STATE, 'sqlite')),
  // 5 on: the steps both backends take (schema.ts SHARED_STEPS).
  ...SHARED_STEPS.map((step) => (db: Database.Database) => void db.exec(render(step, 'sqlite'))),
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * The endpoint store the CLI writes and the daemon reads: one SQLite file in
 * NBWSS_HOME (WAL mode, a busy timeout so concurrent runs wait their turn),
 * or a shared PostgreSQL database: its opening, migrations, meta data and
 * write transaction. What it holds is in repositories over the one database:
 * the entries and their pins (endpoints), the outbox, the poll state and what
 * only a shared store has (shared). A SQLite store never holds a token.
 */
export class EndpointStore {
  private constructor(
    private readonly db: SqlDatabase,
    readonly home: string,
    /** Where the data lives: the SQLite file in home, or a PostgreSQL database (its URL without a password). */
    readonly backend: StoreBackend = { kind: 'sqlite' },
  ) {}

  get isShared(): boolean {
    return this.backend.kind === 'postgres';
  }

  /** Every row of one of the store's tables (nbwss store copy): the tables and columns are the same on both backends. */
  exportTable(table: CopyTable): Record<string, unknown>[] {
    return this.db.prepare(`SELECT * FROM ${table}`).all() as Record<string, unknown>[];
  }

  /** Insert rows exported from another store (inside write()). */
  importTable(table: CopyTable, rows: readonly Record<string, unknown>[]): void {
    for (const r of rows) {
      const cols = Object.keys(r);
      this.db.prepare(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`).run(...cols.map((c) => r[c]));
    }
  }

  private sharedHandle: SharedTables | undefined;
  /** What only a shared (PostgreSQL) store holds: its daemons and its sealed tokens; undefined for a SQLite store. */
  get shared(): SharedTables | undefined {
    if (this.backend.kind !== 'postgres') return undefined;
    this.sharedHandle ??= new SharedTables(this.db);
    return this.sharedHandle;
  }

  /**
   * A PostgreSQL store (NBWSS_STORE=postgres://…): the entries, pins, outbox,
   * poll state and (encrypted) tokens in the database; properties, the audit
   * log and the daemon's socket stay in `home`, per host.
   */
  private static openPostgres(home: string, url: string): EndpointStore {
    ensurePrivateDir(home);
    const shown = safeStoreUrl(url);
    let db: PgDatabase;
    try {
      db = new PgDatabase(new SyncPg(url, { name: 'nbwss' }));
      pgMigrate(db, shown);
    } catch (e) {
      if (e instanceof NbwssError) throw e;
      throw new NbwssError('STORE', `Cannot open the PostgreSQL store ${shown}: ${(e as Error).message}`, {
        hint: 'Check NBWSS_STORE (postgres://USER@HOST:PORT/DB), that the server runs, and the password (PGPASSWORD or ~/.pgpass, never the command line).',
        cause: e,
      });
    }
    return new EndpointStore(db, home, { kind: 'postgres', url: shown });
  }

  /**
   * `durable`: every commit is synced to disk (synchronous=FULL), for writes
   * that promise the caller their data survives a power loss (nbwss notify).
   * Otherwise a commit survives a crash of the process, not of the machine.
   */
  static open(home: string, opts: { busyTimeoutMs?: number; durable?: boolean; url?: string } = {}): EndpointStore {
    if (opts.url) return EndpointStore.openPostgres(home, opts.url);
    ensurePrivateDir(home); // and the ownership rule: ours, not writable by others, no links
    const path = join(home, DB_FILE);
    const busyTimeoutMs = opts.busyTimeoutMs ?? 30_000;
    let db: Database.Database;
    try {
      db = openDatabase(path);
      db.pragma(`busy_timeout = ${busyTimeoutMs}`);
      // The switch to WAL takes an exclusive lock that the busy timeout does not wait for:
      // concurrent first runs retry it, and wait their turn instead of failing.
      untilNotBusy(busyTimeoutMs, () => {
        if (db.pragma('journal_mode', { simple: true }) !== 'wal') db.pragma('journal_mode = WAL');
      });
      db.pragma(opts.durable ? 'synchronous = FULL' : 'synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
    } catch (e) {
      throw storeError(`Cannot open the store ${path}`, e);
    }
    for (const f of [path, `${path}-wal`, `${path}-shm`]) tightenFile(f);
    const store = new EndpointStore(db, home);
    store.migrate(path);
    return store;
  }

  /** Whether a store exists in this directory. */
  static exists(home: string, url?: string): boolean {
    if (url) return true; // a PostgreSQL store is created on first open, by whichever host comes first
    return existsSync(join(home, DB_FILE));
  }

  /**
   * Open a store that exists, read-only, for commands that only read (list,
   * show, validate, completion): nothing is created, chmod-ed or migrated on
   * the way. Undefined when there is no store yet. A store from an older
   * nbwss is opened read-write once, to migrate it.
   */
  static openExisting(home: string, url?: string): EndpointStore | undefined {
    if (url) return EndpointStore.openPostgres(home, url);
    const path = join(home, DB_FILE);
    if (!existsSync(path)) return undefined;
    assertStoreOwnership(home);
    let store: EndpointStore;
    let version: number;
    try {
      const db = openDatabase(path, { readonly: true, fileMustExist: true });
      db.pragma('busy_timeout = 30000');
      store = new EndpointStore(db, home);
      version = store.schemaVersion;
    } catch (e) {
      throw storeError(`Cannot open the store ${path}`, e);
    }
    if (version === SCHEMA_VERSION) return store;
    store.close();
    return EndpointStore.open(home); // migrates an older store; refuses a newer one
  }

  private migrate(path: string): void {
    const version = () => this.db.pragma('user_version', { simple: true }) as number;
    try {
      if (version() > SCHEMA_VERSION) {
        throw new NbwssError('STORE', `The store ${path} has schema version ${version()}, newer than this nbwss understands (${SCHEMA_VERSION})`, {
          hint: `Upgrade nbwss, or point ${W.home} at another store.`,
        });
      }
      if (version() === SCHEMA_VERSION) return;
      this.db
        .transaction(() => {
          // Re-read under the write lock: a concurrent first run may have migrated already.
          for (let v = version(); v < SCHEMA_VERSION; v++) {
            MIGRATIONS[v]!(this.db as Database.Database); // SQLite only: a PostgreSQL store migrates in pg/schema.ts
            this.db.pragma(`user_version = ${v + 1}`);
          }
        })
        .immediate();
    } catch (e) {
      if (e instanceof NbwssError) throw e;
      throw storeError(`Cannot prepare the store ${path}`, e);
    }
  }

  close(): void {
    this.db.close();
  }

  private pollHandle: PollState | undefined;
  /** The REST API poller's cursors and what it saw (writes inside write()). */
  get poll(): PollState {
    this.pollHandle ??= new PollState(this.db);
    return this.pollHandle;
  }

  private outboxHandle: Outbox | undefined;
  /** The notification outbox (writes inside write()). */
  /** The entries and their pins (src/core/store/endpoints.ts). */
  get endpoints(): Endpoints {
    this.endpointsHandle ??= new Endpoints(this.db, this.home, () => (this.writing ? this.writeSerial : undefined));
    return this.endpointsHandle;
  }
  private endpointsHandle: Endpoints | undefined;

  get outbox(): Outbox {
    this.outboxHandle ??= new Outbox(this.db);
    return this.outboxHandle;
  }

  integrityCheck(): string {
    return String(reading(this.home, () => this.db.pragma('integrity_check', { simple: true })));
  }

  /** The schema version of this store (SQLite's user_version; a PostgreSQL store's own numbering, schema.ts). */
  get schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  /** The schema version this nbwss makes and reads on this store's backend. */
  get currentSchemaVersion(): number {
    return this.backend.kind === 'postgres' ? PG_SCHEMA_VERSION : SCHEMA_VERSION;
  }

  get storeId(): string {
    return this.getMeta('store_id')!;
  }

  getMeta(key: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }

  /** Set (or with undefined, remove) a meta value; inside write(). */
  setMeta(key: string, value: string | undefined): void {
    if (value === undefined) this.db.prepare('DELETE FROM meta WHERE key = ?').run(key);
    else this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  /** The secret store recorded by the first run that wrote a token. */
  get secretBackend(): SecretBackendName | undefined {
    return this.getMeta('secret_store') as SecretBackendName | undefined;
  }

  /**
   * Record the secret store if none is recorded yet; returns the one in
   * force. Call inside a write transaction.
   */
  recordSecretBackend(name: SecretBackendName): SecretBackendName {
    this.db.prepare(`INSERT OR IGNORE INTO meta (key, value) VALUES ('secret_store', ?)`).run(name);
    return this.getMeta('secret_store') as SecretBackendName;
  }

  /**
   * How long a write waits for another writer's lock before it fails with
   * StoreBusy (ms). The CLI keeps the 30 s default; the daemon waits briefly
   * and writes again later, so that no other process holds its event loop.
   */
  setLockWait(ms: number): void {
    if (this.db instanceof PgDatabase) this.db.lockWaitMs = ms;
    else this.db.pragma(`busy_timeout = ${Math.max(0, Math.floor(ms))}`);
  }

  /** Run fn under the store's write lock (BEGIN IMMEDIATE); fn must be synchronous. */
  write<T>(fn: () => T): T {
    this.writing = true;
    this.writeSerial++;
    try {
      return this.db.transaction(fn).immediate();
    } catch (e) {
      if (e instanceof NbwssError) throw e;
      throw storeError('The store could not be written', e);
    } finally {
      this.writing = false;
    }
  }

  /** Whether a write transaction runs now, and which (the entries check for host conflicts once per write). */
  private writing = false;
  private writeSerial = 0;
}

/** Run fn again while SQLite says the database is busy, up to `timeoutMs`. */
function untilNotBusy(timeoutMs: number, fn: () => void): void {
  const deadline = Date.now() + timeoutMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
    try {
      fn();
      return;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if ((code !== 'SQLITE_BUSY' && code !== 'SQLITE_LOCKED') || Date.now() + wait > deadline) throw e;
      Atomics.wait(pause, 0, 0, wait);
    }
  }
}
