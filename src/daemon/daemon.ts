import { EventEmitter } from 'node:events';
import { accountFor, type SecretStore } from '../core/secrets/index.js';
import type { EndpointStore } from '../core/store/db.js';
import type { NbwssProperties } from '../core/config/properties.js';
import { ConnectError, EndpointConnection, type ConnectTarget, type Logger } from './connection.js';

export interface DaemonOptions {
  store: EndpointStore;
  secrets: SecretStore;
  log: Logger;
  properties: () => NbwssProperties;
  now?: () => Date;
}

interface Failure {
  count: number;
  nextAt: number;
}

export interface GroupStatus {
  groupId: string;
  connected: string | null;
  since: string | null;
  endpoints: { hostName: string; priority: number; connection: 'CONNECTED' | 'CONNECTING' | 'DISCONNECTED'; lastError: string | null }[];
}

/** A connection that ends within this long counts as a failure (backoff), so a flapping endpoint cannot cause a storm. */
const SHORT_LIVED_MS = 5_000;
const BASE_BACKOFF_MS = 1_000;

/**
 * The connection side of NBWSS (guide chapter 1, "Notes on NetBackup
 * connections"): per group at most one connection, to its ACTIVATED
 * endpoints in priority order (lower first, ties by host name); at most one
 * connection per endpoint; never drops a working connection because a
 * higher-priority endpoint came back; fails over at once when a connection
 * ends; retries failing endpoints with growing delays bounded by the period.
 */
export class Daemon extends EventEmitter {
  private readonly conns = new Map<string, EndpointConnection>();
  private readonly failures = new Map<string, Failure>();
  private readonly lastErrors = new Map<string, string>();
  private periodTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** Groups whose candidates are being tried right now (one attempt chain per group). */
  private readonly inFlight = new Map<string, Promise<void>>();
  private again = false;
  private stopped = false;
  readonly startedAt: Date;

  constructor(private readonly o: DaemonOptions) {
    super();
    this.startedAt = this.now();
  }

  private now(): Date {
    return this.o.now ? this.o.now() : new Date();
  }

  start(): Promise<void> {
    this.o.store.write(() => this.o.store.resetConnections(this.now().toISOString()));
    this.schedulePeriod();
    return this.reconcile();
  }

  /** Re-read the properties (SIGHUP) and reconcile. */
  reload(): Promise<void> {
    this.schedulePeriod();
    return this.reconcile();
  }

  private schedulePeriod(): void {
    clearInterval(this.periodTimer);
    this.periodTimer = setInterval(() => void this.reconcile(), this.o.properties()['connectionInfo.period'] * 1000);
  }

  /** Reconcile now; a request while one runs makes one more run after it. */
  reconcile(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.reconcileOnce();
        } while (this.again && !this.stopped);
      } catch (e) {
        this.o.log.error({ err: (e as Error).message }, 'reconcile failed');
      } finally {
        this.running = undefined;
      }
      const connected = [...this.conns.values()].filter((c) => c.state === 'established').length;
      this.o.log.info({ groups: this.lastGroups.size, connected, attempting: this.inFlight.size }, 'reconciled');
      this.emit('reconciled');
    })();
    return this.running;
  }

  private targets(): Map<string, ConnectTarget> {
    const out = new Map<string, ConnectTarget>();
    // Entries that are one host under two names share one token: connect to neither (nbwss doctor names them).
    const conflicted = new Map<string, string[]>();
    for (const pair of this.o.store.hostConflicts()) for (const h of pair) conflicted.set(h, pair);
    for (const r of this.o.store.list({ state: 'ACTIVATED' })) {
      const account = accountFor(r.hostName);
      const pair = conflicted.get(r.hostName);
      if (pair) {
        this.recordError(r.hostName, `not connected: ${pair.map((h) => `"${h}"`).join(' and ')} are one host under two names; delete one (nbwss doctor)`);
        continue;
      }
      let token: string | undefined;
      try {
        token = this.o.secrets.get(account);
      } catch (e) {
        this.recordError(r.hostName, `secret store: ${(e as Error).message}`);
        continue;
      }
      if (token === undefined) {
        this.recordError(r.hostName, 'no token in the secret store');
        continue;
      }
      out.set(account, {
        hostName: r.hostName,
        url: r.url,
        groupId: r.groupId,
        priority: r.priority,
        pinType: r.pinType,
        fingerprint: r.fingerprint,
        spkiFingerprint: r.spkiFingerprint,
        token,
      });
    }
    return out;
  }

  private async reconcileOnce(): Promise<void> {
    const targets = this.targets();
    // Close what is no longer wanted: deleted, deactivated, or its url, pin or token changed.
    for (const [account, conn] of this.conns) {
      const t = targets.get(account);
      const why = !t ? 'deactivated or deleted' : changed(conn.target, t);
      if (why) {
        this.o.log.info({ host: conn.target.hostName, why }, 'closing connection');
        this.conns.delete(account);
        conn.close(1000, why);
        this.writeState(conn.target.hostName, 'DISCONNECTED', null);
      }
    }
    const groups = new Map<string, ConnectTarget[]>();
    for (const t of targets.values()) groups.set(t.groupId, [...(groups.get(t.groupId) ?? []), t]);
    // Attempts run on their own: a slow endpoint never holds up the next reconcile (a nudge takes effect at once).
    this.lastGroups = groups;
    for (const groupId of groups.keys()) this.startGroup(groupId);
    this.scheduleRetry();
  }

  private lastGroups = new Map<string, ConnectTarget[]>();

  /** Resolves when no connection attempt is under way (tests, benchmarks). */
  async settled(): Promise<void> {
    while (this.running || this.inFlight.size) {
      await this.running;
      await Promise.all(this.inFlight.values());
    }
  }

  private busyGroup(groupId: string): boolean {
    for (const c of this.conns.values()) if (c.target.groupId === groupId && c.state !== 'closed') return true;
    return false;
  }

  /** Connect a group without a live connection: candidates in priority order, the next one when one fails. */
  private async serveGroup(groupId: string, members: ConnectTarget[]): Promise<void> {
    const now = this.now().getTime();
    const candidates = members
      .filter((t) => (this.failures.get(accountFor(t.hostName))?.nextAt ?? 0) <= now)
      .sort((a, b) => a.priority - b.priority || (a.hostName.toLowerCase() < b.hostName.toLowerCase() ? -1 : 1));
    for (const t of candidates) {
      if (this.stopped || this.busyGroup(groupId)) return;
      const account = accountFor(t.hostName);
      const conn = new EndpointConnection(t, this.settings(), this.o.log);
      this.conns.set(account, conn);
      try {
        await conn.connect();
      } catch (e) {
        if (this.conns.get(account) !== conn) continue; // closed by a reconcile (deactivated, deleted, changed)
        this.conns.delete(account);
        this.fail(t.hostName, e instanceof ConnectError ? e.message : String(e));
        continue;
      }
      if (this.conns.get(account) !== conn || this.stopped) {
        conn.close(1000, 'no longer wanted');
        return;
      }
      this.failures.delete(account);
      this.lastErrors.delete(account);
      this.o.log.info({ host: t.hostName, group: groupId, priority: t.priority }, 'connected');
      this.writeState(t.hostName, 'CONNECTED', null);
      conn.once('closed', (reason: string) => this.onClosed(account, conn, reason));
      return;
    }
  }

  private onClosed(account: string, conn: EndpointConnection, reason: string): void {
    if (this.conns.get(account) !== conn) return; // closed by us, already accounted for
    this.conns.delete(account);
    const lived = this.now().getTime() - conn.since.getTime();
    this.o.log.warn({ host: conn.target.hostName, reason, livedMs: lived }, 'connection ended; the group picks again');
    if (lived < SHORT_LIVED_MS || /pongs missed|decoder error/.test(reason)) this.fail(conn.target.hostName, reason);
    else {
      this.lastErrors.set(account, reason);
      this.writeState(conn.target.hostName, 'DISCONNECTED', reason);
    }
    // Fail over at once: only this group picks again, from the endpoints the last reconcile saw
    // (a burst of closes must not cost a full reconcile each).
    this.startGroup(conn.target.groupId);
  }

  private startGroup(groupId: string): void {
    const members = this.lastGroups.get(groupId);
    if (this.stopped || !members || this.inFlight.has(groupId) || this.busyGroup(groupId)) return;
    const attempt = this.serveGroup(groupId, members).finally(() => {
      this.inFlight.delete(groupId);
      this.scheduleRetry();
      this.emit('attempted', groupId);
    });
    this.inFlight.set(groupId, attempt);
  }

  private fail(hostName: string, reason: string): void {
    const account = accountFor(hostName);
    const prev = this.failures.get(account)?.count ?? 0;
    const delay = Math.min(this.o.properties()['connectionInfo.period'] * 1000, BASE_BACKOFF_MS * 2 ** prev);
    this.failures.set(account, { count: prev + 1, nextAt: this.now().getTime() + delay });
    this.o.log.warn({ host: hostName, reason, retryInMs: delay }, 'connection attempt failed');
    this.recordError(hostName, reason);
  }

  private recordError(hostName: string, reason: string): void {
    const account = accountFor(hostName);
    if (this.lastErrors.get(account) === reason) return;
    this.lastErrors.set(account, reason);
    this.writeState(hostName, 'DISCONNECTED', reason);
  }

  /** Wake up when the earliest backoff of a group without a connection ends. */
  private scheduleRetry(): void {
    clearTimeout(this.retryTimer);
    if (this.stopped) return;
    let earliest = Infinity;
    for (const [groupId, members] of this.lastGroups) {
      if (this.busyGroup(groupId) || this.inFlight.has(groupId)) continue;
      for (const t of members) earliest = Math.min(earliest, this.failures.get(accountFor(t.hostName))?.nextAt ?? Infinity);
    }
    if (earliest === Infinity) return;
    this.retryTimer = setTimeout(() => void this.reconcile(), Math.max(0, earliest - this.now().getTime()) + 10);
  }

  private writeState(hostName: string, state: 'CONNECTED' | 'DISCONNECTED', lastError: string | null): void {
    try {
      this.o.store.write(() => this.o.store.setConnection(hostName, state, this.now().toISOString(), lastError));
    } catch (e) {
      this.o.log.error({ host: hostName, err: (e as Error).message }, 'could not record the connection state');
    }
  }

  private settings() {
    const p = this.o.properties();
    return {
      sendTimeoutMs: p['notification.sendTimeout'],
      keepAliveMs: p['keepAlive.scheduledRate'] * 1000,
      maxPongMiss: p['keepAlive.maxPongMissAllowed'],
      ignoreDecoder: p['exception.ignoreDecoder'],
      connectTimeoutMs: Math.max(5_000, p['notification.sendTimeout']),
    };
  }

  status(): { groups: GroupStatus[] } {
    const byGroup = new Map<string, GroupStatus>();
    for (const r of this.o.store.list()) {
      if (r.state !== 'ACTIVATED') continue;
      const account = accountFor(r.hostName);
      const c = this.conns.get(account);
      const g = byGroup.get(r.groupId) ?? { groupId: r.groupId, connected: null, since: null, endpoints: [] };
      const connection = c?.state === 'established' ? 'CONNECTED' : c?.state === 'connecting' ? 'CONNECTING' : 'DISCONNECTED';
      if (connection === 'CONNECTED') {
        g.connected = r.hostName;
        g.since = c!.since.toISOString();
      }
      g.endpoints.push({ hostName: r.hostName, priority: r.priority, connection, lastError: this.lastErrors.get(account) ?? null });
      byGroup.set(r.groupId, g);
    }
    return { groups: [...byGroup.values()] };
  }

  /** Close every connection with a normal close code and record it. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.periodTimer);
    clearTimeout(this.retryTimer);
    const conns = [...this.conns.values()];
    this.conns.clear(); // first: these closes are ours, not the endpoints'
    for (const conn of conns) conn.close(1000, 'NBWSS daemon stopping');
    const hosts = conns.map((c) => c.target.hostName);
    for (const h of hosts) this.writeState(h, 'DISCONNECTED', null);
    await this.running;
    await Promise.all(this.inFlight.values());
  }
}

function changed(a: ConnectTarget, b: ConnectTarget): string | undefined {
  if (a.url !== b.url) return 'url changed';
  if (a.pinType !== b.pinType || a.fingerprint !== b.fingerprint || a.spkiFingerprint !== b.spkiFingerprint) return 'pin changed';
  if (a.token !== b.token) return 'token changed';
  if (a.groupId !== b.groupId) return 'group changed';
  return undefined;
}
