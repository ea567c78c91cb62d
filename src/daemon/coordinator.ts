import { hostname } from 'node:os';
import type pg from 'pg';
import { CHANNEL, groupLockKey, loadPg, POLLER_LOCK_KEY } from '../core/store/pg/announce.js';
import type { Logger } from './connection.js';
import { settling, shareDecision } from './share.js';

/**
 * Several daemons on one shared (PostgreSQL) store: which server groups this
 * one serves. PostgreSQL's own primitives decide, no home-made consensus:
 *
 * - A group is served by the daemon holding its session-level advisory lock
 *   (pg_try_advisory_lock). A lock dies with its session: kill -9, a crash or
 *   a closed connection frees it at once, and the other daemons take the
 *   group at their next tick (every heartbeatMs).
 * - The live daemons are the sessions named `nbwss-daemon:…` (whose heartbeat
 *   is younger than the fence: one whose rounds fail serves nothing) in
 *   pg_stat_activity; each takes unowned groups up to its fair share
 *   (ceil(groups / live daemons)) and hands one back per tick while it holds
 *   more than that (a group moves with a brief disconnect; it is closed
 *   before its lock is released, so never two connections for one group).
 * - A daemon that cannot reach PostgreSQL keeps its connections (an outage
 *   of the database alone must not cut the clouds off), but only for fenceMs:
 *   then it closes them. The server drops a silent session later than that
 *   (TCP keepalives set on the session: tcp_keepalives_idle/interval/count,
 *   tcp_user_timeout), so a partitioned daemon has let go before another
 *   one can take its groups.
 * - After its session was lost, a daemon re-takes its own groups first and
 *   takes no other for graceMs, so that a daemon cut off by the same outage
 *   can re-take its own before anyone else does.
 * - One daemon (holding the poller lock) polls the REST API.
 */

export interface CoordinatorOptions {
  url: string;
  log: Logger;
  /** The groups that want serving now (those with ACTIVATED endpoints). */
  candidates(): string[];
  /** The set of groups served changed (taken, lost, fenced): reconcile. */
  owned(groups: ReadonlySet<string>): void;
  /** Stop serving a group and resolve once its connection is closed (before its lock is released). */
  release(groupId: string): Promise<void>;
  /** A LISTEN/NOTIFY message of the store (a CLI change, notifications queued). */
  message(what: string): void;
  /** This daemon now does (or no longer does) the REST API polling. */
  poller(held: boolean): void;
  /**
   * Whether this host's key file opens the store's tokens (recorded for nbwss doctor; asked once a minute, and every
   * round while it does not): a daemon whose key does not takes no group, so that the others serve them all.
   * undefined: could not tell (the store did not answer).
   */
  keyOk?(): boolean | undefined;
  heartbeatMs?: number;
  fenceMs?: number;
  graceMs?: number;
  /** After its first connection, a daemon waits this long before taking groups (daemons starting together share from the start). */
  settleMs?: number;
  /** Tests only: a round fails while this says so (NBWSS_TEST_HOOKS), the session staying up. */
  failRound?: () => boolean;
  monotonic?: () => number;
}

export interface ClusterView {
  id: string;
  daemons: { id: string; host: string; pid: number; startedAt: string; heartbeatAt: string; groups: string[]; poller: boolean; keyOk?: boolean | null }[];
}

/** The server's keepalive settings for the session: a silent peer is dropped after idle + interval × count s (16 s), later than fenceMs. */
const KEEPALIVE = { idle: 10, interval: 2, count: 3 };

export class Coordinator {
  readonly id = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  private readonly held = new Set<string>();
  /** Groups let go of whose lock is still held by this session (a round failed before the unlock). */
  private readonly unlockPending = new Set<string>();
  private pollerHeld = false;
  private client: pg.Client | undefined;
  private connecting: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastOk: number;
  private sessionStart = 0;
  private sessions = 0;
  private ticking = false;
  private keyCheckedAt: number | undefined;
  private prunedAt: number | undefined;
  private keyOk: boolean | undefined;
  private stopped = false;
  private readonly startedAt = new Date().toISOString();
  private readonly hb: number;
  private readonly fenceMs: number;
  private readonly graceMs: number;
  private readonly settleMs: number;

  constructor(private readonly options: CoordinatorOptions) {
    this.hb = options.heartbeatMs ?? 1000;
    this.fenceMs = options.fenceMs ?? 12_000;
    this.graceMs = options.graceMs ?? this.fenceMs + 3000;
    this.settleMs = options.settleMs ?? 2 * this.hb;
    this.lastOk = this.mono();
  }

  private mono(): number {
    return this.options.monotonic ? this.options.monotonic() : performance.now();
  }

  /** Every daemon of the store as of the last round (status). */
  lastView: ClusterView = { id: this.id, daemons: [] };

  owns(groupId: string): boolean {
    return this.held.has(groupId);
  }

  get groups(): ReadonlySet<string> {
    return this.held;
  }

  async start(): Promise<void> {
    await this.connect().catch((e) =>
      this.options.log.error({ err: (e as Error).message }, 'cannot reach the shared store: serving no group until it answers'),
    );
    this.timer = setInterval(() => void this.tick(), this.hb);
    void this.tick();
  }

  private async connect(): Promise<void> {
    if (this.client || this.stopped) return;
    this.connecting ??= (async () => {
      const pgClient = new (loadPg().Client)({
        connectionString: this.options.url,
        application_name: `nbwss-daemon:${this.id}`.slice(0, 63),
        connectionTimeoutMillis: 3000,
        query_timeout: 3000,
        keepAlive: true,
      });
      pgClient.on('error', (e) => this.lost(pgClient, e.message));
      pgClient.on('end', () => this.lost(pgClient, 'the connection ended'));
      pgClient.on('notification', (n) => {
        if (n.channel === CHANNEL) this.options.message(n.payload ?? '');
      });
      await pgClient.connect();
      await pgClient.query(
        `SET tcp_keepalives_idle = ${KEEPALIVE.idle}; SET tcp_keepalives_interval = ${KEEPALIVE.interval}; SET tcp_keepalives_count = ${KEEPALIVE.count}; SET tcp_user_timeout = ${(KEEPALIVE.idle + KEEPALIVE.interval * KEEPALIVE.count) * 1000}`,
      );
      await pgClient.query(`LISTEN ${CHANNEL}`);
      this.sessions++;
      this.sessionStart = this.mono();
      this.unlockPending.clear(); // they died with the old session
      // A new session after a lost one: the locks died with the old session; take our own groups back first.
      const lost: string[] = [];
      for (const groupId of this.held) {
        const result = await pgClient.query('SELECT pg_try_advisory_lock($1::bigint) AS ok', [groupLockKey(groupId)]);
        if (!result.rows[0].ok) lost.push(groupId);
      }
      this.client = pgClient;
      this.lastOk = this.mono();
      if (this.sessions > 1) this.options.log.info({ kept: this.held.size - lost.length, lost: lost.length }, 'the shared store answers again');
      if (this.pollerHeld) {
        this.pollerHeld = false;
        this.options.poller(false);
      }
      if (lost.length) {
        for (const g of lost) this.held.delete(g);
        this.options.log.warn({ groups: lost }, 'groups taken by another daemon while the shared store was away: their connections are closed');
        this.options.owned(this.held);
      }
    })().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private lost(pgClient: pg.Client, why: string): void {
    if (this.client !== pgClient) return;
    this.client = undefined;
    pgClient.removeAllListeners('end');
    pgClient.end().catch(() => {});
    if (!this.stopped) this.options.log.warn({ err: why }, 'the shared store connection is lost: keeping the connections served, reconnecting');
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.stopped) return;
    this.ticking = true;
    try {
      if (!this.client) await this.connect().catch((e) => this.trouble('connect', e));
      const pgClient = this.client;
      if (pgClient) {
        try {
          if (this.options.failRound?.()) throw new Error('a coordination round failed (test hook)');
          await this.round(pgClient);
          this.lastOk = this.mono();
          if (this.troubled) this.options.log.info({}, 'coordination rounds work again');
          this.troubled = undefined;
        } catch (e) {
          // A failed round on a session that is still up keeps the session, and with it every group lock:
          // ending it would free groups whose connections are still open. A broken session ends by itself ('error', 'end').
          this.trouble('round', e);
        }
      }
      if (this.held.size > 0 && this.mono() - this.lastOk > this.fenceMs) await this.fence();
    } catch (e) {
      // Nothing in a round may take the daemon down (a store call in a callback, a bug): said, and tried again next tick.
      this.trouble('tick', e);
    } finally {
      this.ticking = false;
    }
  }

  /** What went wrong in a round, logged once per kind until rounds work again. */
  private troubled: string | undefined;
  private trouble(where: string, err: unknown): void {
    const key = `${where}:${(err as Error)?.message ?? String(err)}`;
    if (this.troubled === key) return;
    this.troubled = key;
    this.options.log.error({ err: (err as Error)?.message ?? String(err), where }, 'a coordination round failed: trying again every second');
  }

  /**
   * Fenced: no round has worked for longer than the server keeps a silent
   * session, so another daemon may take our groups soon. Close every
   * connection first; only then end the session (its locks with it).
   */
  private async fence(): Promise<void> {
    const groups = [...this.held];
    this.options.log.error(
      { groups: groups.length, awayMs: Math.round(this.mono() - this.lastOk) },
      'the shared store is away too long: closing every connection',
    );
    this.held.clear();
    this.options.owned(this.held);
    await Promise.all(groups.map((g) => this.options.release(g).catch(() => {})));
    if (this.pollerHeld) {
      this.pollerHeld = false;
      this.options.poller(false);
    }
    const pgClient = this.client;
    if (pgClient) this.lost(pgClient, 'fenced: the session is ended once its connections are closed');
  }

  /** One round: heartbeat, who is alive, which groups are free; take or hand back. */
  private async round(pgClient: pg.Client): Promise<void> {
    // This store's daemons only: other databases of the cluster may hold other nbwss stores.
    // Daemons whose key file does not open the tokens serve nothing: the others share every group.
    // Nor does a daemon whose rounds fail though its session is up (its heartbeat older than the fence): counted,
    // it would hold the others to their share and leave its part of the groups unserved. This daemon counts itself.
    const others = (
      await pgClient.query(
        `SELECT count(DISTINCT a.application_name)::int AS n FROM pg_stat_activity a
         LEFT JOIN daemons d ON a.application_name = left('nbwss-daemon:' || d.id, 63)
         WHERE a.application_name LIKE 'nbwss-daemon:%' AND a.datname = current_database() AND a.pid <> pg_backend_pid()
           AND d.key_ok IS NOT FALSE AND (d.id IS NULL OR d.heartbeat_at > now() - make_interval(secs => $1))`,
        [this.fenceMs / 1000],
      )
    ).rows[0].n as number;
    const live = others + (this.keyOk === false ? 0 : 1);
    const candidates = this.options.candidates();
    const wanted = new Set(candidates);
    let changed = false;
    if (this.options.keyOk && (this.keyCheckedAt === undefined || this.keyOk === false || this.mono() - this.keyCheckedAt > 60_000)) {
      this.keyCheckedAt = this.mono();
      const ok = this.options.keyOk();
      if (ok !== undefined && ok !== this.keyOk) {
        if (!ok)
          this.options.log.error(
            {},
            "this host's key file does not open the shared store's tokens: this daemon serves no group (nbwss doctor says how to fix it)",
          );
        else if (this.keyOk === false) this.options.log.info({}, "this host's key file opens the tokens now: this daemon takes its share of groups");
      }
      if (ok !== undefined) this.keyOk = ok;
    }
    // Locks whose release failed in an earlier round (their groups are closed already): released now.
    for (const groupId of [...this.unlockPending]) {
      await pgClient.query('SELECT pg_advisory_unlock($1::bigint)', [groupLockKey(groupId)]);
      this.unlockPending.delete(groupId);
    }
    // Groups no longer wanted (deactivated, deleted): let go of their locks (their connections are closed by the reconcile).
    for (const groupId of [...this.held]) {
      if (wanted.has(groupId)) continue;
      this.held.delete(groupId);
      this.unlockPending.add(groupId);
      await pgClient.query('SELECT pg_advisory_unlock($1::bigint)', [groupLockKey(groupId)]);
      this.unlockPending.delete(groupId);
      changed = true;
    }
    if (this.pollerHeld && this.keyOk === false) {
      // The REST API credentials are sealed with the same key: another daemon polls.
      this.pollerHeld = false;
      this.options.poller(false);
      await pgClient.query('SELECT pg_advisory_unlock($1::bigint)', [POLLER_LOCK_KEY]);
    }
    if (!this.pollerHeld && this.keyOk !== false) {
      const result = await pgClient.query('SELECT pg_try_advisory_lock($1::bigint) AS ok', [POLLER_LOCK_KEY]);
      if (result.rows[0].ok) {
        this.pollerHeld = true;
        this.options.poller(true);
      }
    }
    const waiting = settling(this.sessions, this.mono() - this.sessionStart, this.settleMs, this.graceMs);
    const decision = shareDecision({ held: this.held, candidates, live, keyOk: this.keyOk, waiting });
    const { share } = decision;
    if (decision.kind === 'handBack') {
      // Hand one group back per round: closed first, then unlocked.
      const groupId = decision.group;
      this.held.delete(groupId);
      this.unlockPending.add(groupId);
      this.options.owned(this.held);
      await this.options.release(groupId);
      await pgClient.query('SELECT pg_advisory_unlock($1::bigint)', [groupLockKey(groupId)]);
      this.unlockPending.delete(groupId);
      this.options.log.info({ group: groupId, share, live }, 'handed a group to another daemon');
    } else if (decision.kind === 'take') {
      const locked = await this.lockedKeys(pgClient);
      let taken = 0;
      for (const groupId of decision.tryGroups) {
        if (taken >= decision.count) break;
        if (locked.has(groupLockKey(groupId))) continue;
        const result = await pgClient.query('SELECT pg_try_advisory_lock($1::bigint) AS ok', [groupLockKey(groupId)]);
        if (result.rows[0].ok) {
          this.held.add(groupId);
          taken++;
          changed = true;
        }
      }
    }
    if (changed) this.options.owned(this.held);
    if (this.pollerHeld) await this.clearStaleStates(pgClient);
    if (this.prunedAt === undefined || this.mono() - this.prunedAt > 60_000) {
      this.prunedAt = this.mono();
      // Daemons gone for ten minutes (kill -9 leaves its row) are forgotten.
      await pgClient.query("DELETE FROM daemons WHERE heartbeat_at < now() - interval '10 minutes'");
    }
    // The heartbeat, with what this daemon serves after this round's decisions (status reads it).
    await pgClient.query(
      `INSERT INTO daemons (id, host, pid, started_at, heartbeat_at, groups, poller, key_ok) VALUES ($1, $2, $3, $4, now(), $5, $6, $7)
       ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), groups = excluded.groups, poller = excluded.poller, key_ok = excluded.key_ok`,
      [this.id, hostname(), process.pid, this.startedAt, JSON.stringify([...this.held].sort()), this.pollerHeld, this.keyOk ?? null],
    );
    this.lastView = await this.view();
  }

  /**
   * One daemon (the poller lock's holder) puts right what a dead daemon left:
   * an endpoint recorded CONNECTED whose group no daemon holds cannot be
   * connected (a group is connected only under its lock).
   */
  private async clearStaleStates(pgClient: pg.Client): Promise<void> {
    const groups = (await pgClient.query("SELECT DISTINCT group_id AS g FROM endpoints WHERE connection_state = 'CONNECTED'")).rows.map((r) => r.g as string);
    if (groups.length === 0) return;
    const locked = await this.lockedKeys(pgClient);
    const stale = groups.filter((g) => !locked.has(groupLockKey(g)));
    if (stale.length)
      await pgClient.query(
        "UPDATE endpoints SET connection_state = 'DISCONNECTED', connection_since = $2 WHERE connection_state = 'CONNECTED' AND group_id = ANY($1)",
        [stale, new Date().toISOString()],
      );
  }

  /** The advisory lock keys held by any session now (one query, whatever the number of groups). */
  private async lockedKeys(pgClient: pg.Client): Promise<Set<string>> {
    const result = await pgClient.query(
      "SELECT classid::bigint AS hi, objid::bigint AS lo FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1 AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    );
    return new Set(result.rows.map((x) => BigInt.asIntN(64, (BigInt(x.hi) << 32n) | BigInt(x.lo)).toString()));
  }

  /** Every daemon of the store and what it serves (status). */
  async view(): Promise<ClusterView> {
    const pgClient = this.client;
    if (!pgClient) return { id: this.id, daemons: [] };
    const result = await pgClient.query(
      `SELECT d.id, d.host, d.pid, d.started_at AS "startedAt", d.heartbeat_at AS "heartbeatAt", d.groups, d.poller, d.key_ok AS "keyOk"
       FROM daemons d JOIN pg_stat_activity a ON a.application_name = left('nbwss-daemon:' || d.id, 63) AND a.datname = current_database()
       ORDER BY d.host, d.pid`,
    );
    return {
      id: this.id,
      daemons: result.rows.map((row) => ({
        id: row.id,
        host: row.host,
        pid: row.pid,
        startedAt: row.startedAt,
        heartbeatAt: new Date(row.heartbeatAt).toISOString(),
        groups: JSON.parse(row.groups),
        poller: row.poller,
        keyOk: row.keyOk,
      })),
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    const pgClient = this.client;
    this.client = undefined;
    if (pgClient) {
      await pgClient.query('DELETE FROM daemons WHERE id = $1', [this.id]).catch(() => {});
      // Ending the session releases every lock it holds (after the daemon closed its connections).
      pgClient.removeAllListeners('end');
      await pgClient.end().catch(() => {});
    }
  }
}
