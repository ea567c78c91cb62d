import type { EndpointRecord, EndpointRow, EndpointState, EndpointSummary, NewEndpoint, ConnectionState } from './types.js';
import { canonicalHost } from '../endpoint/host.js';
import { NbwssError } from '../errors.js';
import { W } from '../hints.js';
import type { SqlDatabase } from './sql.js';
import { reading } from './store-errors.js';

const ROW_COLUMNS = 'host_name AS hostName, url, group_id AS groupId, priority, state, connection_state AS connectionState, not_after AS notAfter';
const SUMMARY_COLUMNS = `host_name AS hostName, url, group_id AS groupId, priority, state, pin_type AS pinType, fingerprint,
  spki_fingerprint AS spkiFingerprint, not_after AS notAfter, connection_state AS connectionState`;
const COLUMNS = `${SUMMARY_COLUMNS}, created_at AS createdAt, updated_at AS updatedAt, connection_since AS connectionSince, last_error AS lastError,
  (SELECT cert_pem FROM pinned_certificates p WHERE p.host_name = endpoints.host_name) AS certPem`;

export interface ListFilter {
  groupId?: string;
  state?: EndpointState;
}

/** Rename entries to their canonical host name, except where two entries are one host. */
export function canonicalizeHosts(db: SqlDatabase): void {
  const byCanonical = new Map<string, string[]>();
  for (const { h } of db.prepare('SELECT host_name AS h FROM endpoints').all() as { h: string }[]) {
    const canonical = canonicalHost(h);
    byCanonical.set(canonical, [...(byCanonical.get(canonical) ?? []), h]);
  }
  const rename = db.prepare('UPDATE endpoints SET host_name = ? WHERE host_name = ?');
  for (const [c, names] of byCanonical) if (names.length === 1 && names[0] !== c) rename.run(c, names[0]);
}

/**
 * The entries and their pinned certificates: the repository `nbwss add`, `list`, `show`, `delete` and the daemon
 * read and write (`store.endpoints`). Writes run inside the store's write transaction (EndpointStore.write); reads
 * may run anywhere. Host names are canonical (src/core/endpoint/host.ts); while two entries are one host under two
 * names, nothing but list, show and delete is allowed.
 */
export class Endpoints {
  /** The write transaction that checked for one host under two names already (its serial number). */
  private conflictsCheckedIn: number | undefined;

  constructor(
    private readonly db: SqlDatabase,
    /** NBWSS_HOME: error messages name the store by it. */
    private readonly home: string,
    /** The serial number of the store's write transaction running now, undefined outside one. */
    private readonly currentWrite: () => number | undefined,
  ) {}

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
      const canonical = canonicalHost(h);
      byCanonical.set(canonical, [...(byCanonical.get(canonical) ?? []), h]);
    }
    return [...byCanonical.values()].filter((names) => names.length > 1);
  }

  /** Refuse to change entries while some are one host under two names. */
  assertNoConflicts(): void {
    const pairs = this.hostConflicts();
    if (pairs.length === 0) return;
    const named = pairs.map((p) => p.map((h) => `"${h}"`).join(' and ')).join('; ');
    throw new NbwssError('STORE', `The store holds entries that are one host under different names: ${named}`, {
      hint: `nbwss will not guess which one is meant (they share one token). Delete the one you do not want with: ${W.deleteHost(`'${pairs[0]![0]}'`)}, then set the other's token again with: ${W.tokenSet(canonicalHost(pairs[0]![0]!))} < token.txt`,
    });
  }

  /** SQLite's integrity check: 'ok', or what is wrong. */

  /**
   * Check for one host under two names once per write transaction. Once is enough: what it inserts is stored under
   * canonical names, which cannot make a new pair; checking at every insert made adding 1,000 entries to a store of
   * 15,000 scan the store 1,000 times. Outside a write, every time.
   */
  private assertNoConflictsOnce(): void {
    const write = this.currentWrite();
    if (write !== undefined && this.conflictsCheckedIn === write) return;
    this.assertNoConflicts();
    this.conflictsCheckedIn = write;
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
      const statement = this.db.prepare(`SELECT ${COLUMNS} FROM endpoints WHERE host_name = ?`);
      return (statement.get(hostName) ?? statement.get(canonicalHost(hostName))) as EndpointRecord | undefined;
    });
  }

  insert(endpoint: NewEndpoint, now: string): void {
    this.assertNoConflictsOnce();
    endpoint = { ...endpoint, hostName: canonicalHost(endpoint.hostName) };
    this.db
      .prepare(
        `INSERT INTO endpoints (host_name, url, group_id, priority, state, pin_type, fingerprint, spki_fingerprint, not_after, created_at, updated_at)
         VALUES (@hostName, @url, @groupId, @priority, @state, @pinType, @fingerprint, @spkiFingerprint, @notAfter, @now, @now)`,
      )
      .run({ ...endpoint, now });
    this.savePem(endpoint.hostName, endpoint.certPem);
  }

  /** Replace an entry's details and pin, keeping its state and creation time. */
  replace(endpoint: NewEndpoint, now: string): void {
    this.assertNoConflictsOnce();
    this.db
      .prepare(
        `UPDATE endpoints SET url = @url, group_id = @groupId, priority = @priority, pin_type = @pinType,
           fingerprint = @fingerprint, spki_fingerprint = @spkiFingerprint, not_after = @notAfter, updated_at = @now
         WHERE host_name = @hostName`,
      )
      .run({ ...endpoint, now });
    this.savePem(endpoint.hostName, endpoint.certPem);
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
