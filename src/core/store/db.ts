import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { openDatabase } from './sqlite.js';
import { NbwssError } from '../errors.js';
import { assertStoreOwnership, ensurePrivateDir, tightenFile } from './fs.js';
import { canonicalHost } from '../endpoint/host.js';

import type { EndpointRecord, EndpointRow, EndpointState, EndpointSummary, NewEndpoint, SecretBackendName, ConnectionState } from './types.js';
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

/** The tables `nbwss store copy` carries over, parents first (pins reference entries). */
export const COPY_TABLES = [
  'meta',
  'endpoints',
  'pinned_certificates',
  'outbox',
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
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(not a valid URL)';
  }
}

/** NBWSS_STORE (or --store): a postgres:// URL for a shared store, else undefined (SQLite in NBWSS_HOME). */
export function storeUrl(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const v = flag ?? env.NBWSS_STORE;
  if (v === undefined || v === '') return undefined;
  if (!/^postgres(ql)?:\/\//.test(v))
    throw new NbwssError('USAGE', `${flag !== undefined ? '--store' : 'NBWSS_STORE'} must be a postgres:// URL, not "${safeStoreUrl(v)}"`, {
      hint: 'For example postgres://nbwss@db.example.com:5432/nbwss; without it the store is SQLite in NBWSS_HOME.',
    });
  if (new URL(v).password)
    throw new NbwssError('USAGE', 'The store URL holds a password: it would show in ps and in shell history', {
      hint: 'Give the password in PGPASSWORD or ~/.pgpass instead.',
    });
  return v;
}

export type { ConnectionState, EndpointRecord, EndpointRow, EndpointState, EndpointSummary, NewEndpoint, PinType, SecretBackendName } from './types.js';

export const DB_FILE = 'nbwss.db';

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

/** Rename entries to their canonical host name, except where two entries are one host. */
function canonicalizeHosts(db: SqlDatabase): void {
  const byCanonical = new Map<string, string[]>();
  for (const { h } of db.prepare('SELECT host_name AS h FROM endpoints').all() as { h: string }[]) {
    const c = canonicalHost(h);
    byCanonical.set(c, [...(byCanonical.get(c) ?? []), h]);
  }
  const rename = db.prepare('UPDATE endpoints SET host_name = ? WHERE host_name = ?');
  for (const [c, names] of byCanonical) if (names.length === 1 && names[0] !== c) rename.run(c, names[0]);
}

export const SCHEMA_VERSION = MIGRATIONS.length;

const ROW_COLUMNS = 'host_name AS hostName, url, group_id AS groupId, priority, state, connection_state AS connectionState, not_after AS notAfter';
const SUMMARY_COLUMNS = `host_name AS hostName, url, group_id AS groupId, priority, state, pin_type AS pinType, fingerprint,
  spki_fingerprint AS spkiFingerprint, not_after AS notAfter, connection_state AS connectionState`;
const COLUMNS = `${SUMMARY_COLUMNS}, created_at AS createdAt, updated_at AS updatedAt, connection_since AS connectionSince, last_error AS lastError,
  (SELECT cert_pem FROM pinned_certificates p WHERE p.host_name = endpoints.host_name) AS certPem`;

export interface ListFilter {
  groupId?: string;
  state?: EndpointState;
}

/**
 * The endpoint store the CLI writes and the daemon reads: one SQLite file in
 * NBWSS_HOME (WAL mode, a busy timeout so concurrent runs wait their turn),
 * or a shared PostgreSQL database. The entries and pins are here; the
 * outbox, the poll state and what only a shared store has are repositories
 * over the same database (outbox, poll, shared). A SQLite store never holds
 * a token.
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
  get outbox(): Outbox {
    this.outboxHandle ??= new Outbox(this.db);
    return this.outboxHandle;
  }

  /**
   * Entries that are one host under different names (a store from before host
   * names were canonical: `cloud.example.` beside `cloud.example`). They
   * share one token, so nbwss refuses to guess: while any exist, the store can
   * be listed, shown and deleted from, nothing else; the daemon connects to
   * neither of a pair.
   */
  hostConflicts(): string[][] {
    const byCanonical = new Map<string, string[]>();
    for (const { h } of this.db.prepare('SELECT host_name AS h FROM endpoints ORDER BY host_name').all() as { h: string }[]) {
      const c = canonicalHost(h);
      byCanonical.set(c, [...(byCanonical.get(c) ?? []), h]);
    }
    return [...byCanonical.values()].filter((names) => names.length > 1);
  }

  /** Refuse to change entries while some are one host under two names. */
  private assertNoConflicts(): void {
    const pairs = this.hostConflicts();
    if (pairs.length === 0) return;
    const named = pairs.map((p) => p.map((h) => `"${h}"`).join(' and ')).join('; ');
    throw new NbwssError('STORE', `The store holds entries that are one host under different names: ${named}`, {
      hint: `nbwss will not guess which one is meant (they share one token). Delete the one you do not want with: ${W.deleteHost(`'${pairs[0]![0]}'`)}, then set the other's token again with: ${W.tokenSet(canonicalHost(pairs[0]![0]!))} < token.txt`,
    });
  }

  /** SQLite's integrity check: 'ok', or what is wrong. */
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
    try {
      return this.db.transaction(fn).immediate();
    } catch (e) {
      if (e instanceof NbwssError) throw e;
      throw storeError('The store could not be written', e);
    } finally {
      this.writing = false;
      this.conflictsChecked = false;
    }
  }

  /**
   * Whether this write transaction checked the store for one host under two names already. Once is enough: what it
   * inserts is stored under canonical names, which cannot make a new pair; checking at every insert made adding
   * 1,000 entries to a store of 15,000 scan the store 1,000 times.
   */
  private conflictsChecked = false;
  private writing = false;

  private assertNoConflictsOnce(): void {
    if (this.conflictsChecked) return;
    this.assertNoConflicts();
    this.conflictsChecked = this.writing;
  }

  list(filter: ListFilter = {}): EndpointSummary[] {
    return this.select(SUMMARY_COLUMNS, filter) as EndpointSummary[];
  }

  /** The entries as `nbwss list` and the metrics show them, without their pins. */
  listRows(filter: ListFilter = {}): EndpointRow[] {
    return this.select(ROW_COLUMNS, filter) as EndpointRow[];
  }

  private select(columns: string, filter: ListFilter): unknown[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.groupId !== undefined) {
      where.push('group_id = ?');
      args.push(filter.groupId);
    }
    if (filter.state !== undefined) {
      where.push('state = ?');
      args.push(filter.state);
    }
    const sql = `SELECT ${columns} FROM endpoints ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY group_id, priority, host_name`;
    return reading(this.home, () => this.db.prepare(sql).all(...args));
  }

  /** An entry by the name it is stored under, else by its canonical name. */
  get(hostName: string): EndpointRecord | undefined {
    return reading(this.home, () => {
      const q = this.db.prepare(`SELECT ${COLUMNS} FROM endpoints WHERE host_name = ?`);
      return (q.get(hostName) ?? q.get(canonicalHost(hostName))) as EndpointRecord | undefined;
    });
  }

  insert(e: NewEndpoint, now: string): void {
    this.assertNoConflictsOnce();
    e = { ...e, hostName: canonicalHost(e.hostName) };
    this.db
      .prepare(
        `INSERT INTO endpoints (host_name, url, group_id, priority, state, pin_type, fingerprint, spki_fingerprint, not_after, created_at, updated_at)
         VALUES (@hostName, @url, @groupId, @priority, @state, @pinType, @fingerprint, @spkiFingerprint, @notAfter, @now, @now)`,
      )
      .run({ ...e, now });
    this.savePem(e.hostName, e.certPem);
  }

  /** Replace an entry's details and pin, keeping its state and creation time. */
  replace(e: NewEndpoint, now: string): void {
    this.assertNoConflictsOnce();
    this.db
      .prepare(
        `UPDATE endpoints SET url = @url, group_id = @groupId, priority = @priority, pin_type = @pinType,
           fingerprint = @fingerprint, spki_fingerprint = @spkiFingerprint, not_after = @notAfter, updated_at = @now
         WHERE host_name = @hostName`,
      )
      .run({ ...e, now });
    this.savePem(e.hostName, e.certPem);
  }

  private savePem(hostName: string, pem: string): void {
    this.db
      .prepare('INSERT INTO pinned_certificates (host_name, cert_pem) VALUES (?, ?) ON CONFLICT (host_name) DO UPDATE SET cert_pem = excluded.cert_pem')
      .run(hostName, pem);
  }

  setPin(hostName: string, pin: Pick<EndpointRecord, 'pinType' | 'certPem' | 'fingerprint' | 'spkiFingerprint' | 'notAfter'>, now: string): void {
    this.assertNoConflicts();
    this.db
      .prepare(
        `UPDATE endpoints SET pin_type = @pinType, fingerprint = @fingerprint, spki_fingerprint = @spkiFingerprint,
           not_after = @notAfter, updated_at = @now WHERE host_name = @hostName`,
      )
      .run({ ...pin, hostName, now });
    this.savePem(hostName, pin.certPem);
  }

  touch(hostName: string, now: string): void {
    this.assertNoConflicts();
    this.db.prepare('UPDATE endpoints SET updated_at = ? WHERE host_name = ?').run(now, hostName);
  }

  /** The daemon's record of a connection: state, since when, and the last error (null clears it). */
  setConnection(hostName: string, state: ConnectionState, since: string, lastError: string | null): void {
    this.db
      .prepare('UPDATE endpoints SET connection_state = ?, connection_since = ?, last_error = ? WHERE host_name = ?')
      .run(state, since, lastError, hostName);
  }

  /** A daemon of a shared store takes a group: whatever its previous daemon left, nothing of it is connected now. */
  resetGroupConnections(groupId: string, now: string): void {
    this.db
      .prepare("UPDATE endpoints SET connection_state = 'DISCONNECTED', connection_since = ? WHERE group_id = ? AND connection_state = 'CONNECTED'")
      .run(now, groupId);
  }

  /** At daemon start: whatever a previous daemon left, nothing is connected now. */
  resetConnections(now: string): void {
    this.db.prepare("UPDATE endpoints SET connection_state = 'DISCONNECTED', connection_since = ? WHERE connection_state = 'CONNECTED'").run(now);
  }

  /** Delete an entry by its stored name; a conflict it ends lets the other name become canonical. */
  remove(hostName: string): boolean {
    const removed = this.db.prepare('DELETE FROM endpoints WHERE host_name = ?').run(hostName).changes === 1;
    if (removed) canonicalizeHosts(this.db);
    return removed;
  }

  /** Returns whether the state changed (activate/deactivate are idempotent). */
  setState(hostName: string, state: EndpointState, now: string): boolean {
    this.assertNoConflicts();
    return this.db.prepare('UPDATE endpoints SET state = ?, updated_at = ? WHERE host_name = ? AND state <> ?').run(state, now, hostName, state).changes === 1;
  }
}

/** A read that fails (a damaged file, a read-only mount without the WAL index) is a store error, exit 8, not a bug. */
function reading<T>(home: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof NbwssError) throw e;
    throw storeError(`Cannot read the store ${join(home, DB_FILE)}`, e);
  }
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

/**
 * Another writer held the store's write lock longer than this connection
 * waits (SQLite's busy timeout, PostgreSQL's lock_timeout). The CLI waits
 * 30 s and then says so; the daemon waits briefly and writes again on a
 * later tick, so that its event loop is never held by another process.
 */
export class StoreBusy extends NbwssError {}

/** SQLite's busy answer and PostgreSQL's lock_not_available (lock_timeout). */
export const isBusyCode = (code: string | undefined): boolean => code === 'SQLITE_BUSY' || code === '55P03';

function storeError(what: string, e: unknown): NbwssError {
  const code = (e as { code?: string }).code;
  if (isBusyCode(code))
    return new StoreBusy('STORE', `${what}: another nbwss run holds the store's write lock`, {
      hint: 'Another nbwss run held the store too long; try again.',
      cause: e,
    });
  const hint =
    code === 'SQLITE_BUSY'
      ? 'Another nbwss run held the store too long; try again.'
      : code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB'
        ? `The store file is damaged; restore it from a backup (${W.doctor} checks it).`
        : code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY'
          ? `The store cannot be opened here: is ${W.homeVar} on a read-only mount? (${W.doctor} checks it)`
          : `Check that ${W.homeVar} is writable and the disk is not full.`;
  return new NbwssError('STORE', `${what}: ${(e as Error).message}`, { hint, cause: e });
}
