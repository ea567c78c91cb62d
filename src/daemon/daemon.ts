import { safeText } from '../core/text.js';
import { accountFor, type SecretStore } from '../core/secrets/index.js';
import { type EndpointStore, StoreBusy } from '../core/store/db.js';
import type { NbwssProperties } from '../core/config/properties.js';
import { ConnectError, connectionSettings, EndpointConnection, type ConnectionSettings, type ConnectTarget, type Logger } from './connection.js';
import { API_PIN_META } from '../core/api/trust.js';
import { RestLifecycle } from './rest-lifecycle.js';
import { dropOrphanedOutboxes } from './orphaned-outboxes.js';
import { chooseTargets } from './targets.js';
import { Deliveries } from './delivery.js';
import { type GroupStatus, groupStatuses } from './status.js';
// Only the type: metrics.js loads prom-client, which a daemon without metrics.listen never needs.
import type { Metrics } from './metrics.js';
import { Poller, type SourceStatus } from './poller.js';
import { ConnectionStates, type Entry } from './connection-states.js';
import type { ClusterView, Coordinator } from './coordinator.js';
import { type CoordinationTimings, coordinatorFor } from './group-ownership.js';
import { type Action, endedAsFailure, type Failure, nextFailure, type PlanConnection, type PlanEndpoint, plan, STABLE_MS } from './plan.js';

export interface DaemonOptions {
  store: EndpointStore;
  secrets: SecretStore;
  log: Logger;
  properties: () => NbwssProperties;
  /** Wall clock, for what is written and shown. */
  now?: () => Date;
  /** Monotonic clock in ms, for every delay (default performance.now()). */
  monotonic?: () => number;
  /** Prometheus metrics (metrics.listen set). */
  metrics?: Metrics;
  /** A shared (PostgreSQL) store's URL: several daemons share its groups (coordinator.ts). */
  sharedUrl?: string;
  /** Coordination timings (tests shorten them). */
  coordination?: CoordinationTimings;
}

const pinOf = (t: ConnectTarget) => `${t.pinType}|${t.fingerprint}|${t.spkiFingerprint}`;
const toPlanConnection = (account: string, conn: EndpointConnection): PlanConnection => ({
  account,
  groupId: conn.target.groupId,
  state: conn.state === 'established' ? 'established' : 'connecting',
  url: conn.target.url,
  pin: pinOf(conn.target),
  token: conn.target.token,
});
const toPlanEndpoint = (account: string, target: ConnectTarget): PlanEndpoint => ({
  account,
  groupId: target.groupId,
  priority: target.priority,
  url: target.url,
  pin: pinOf(target),
  token: target.token,
});

/**
 * The connection side of NBWSS. Every decision (which endpoint to connect,
 * which connection to close, when to look again) is made by plan() in
 * plan.ts, a pure function of the store, the live connections, the failure
 * history and a monotonic clock; this class only applies its actions and
 * feeds the outcomes back.
 */
export class Daemon {
  private readonly conns = new Map<string, EndpointConnection>();
  private readonly failures = new Map<string, Failure>();
  private readonly lastErrors = new Map<string, string>();
  /** Monotonic ms at which each live connection was established. */
  private readonly establishedAt = new Map<string, number>();
  /** What the last reconcile read from the store (failover between reconciles plans from it). */
  private targetsSeen = new Map<string, ConnectTarget>();
  /** The accounts of targetsSeen by group: a group's own event (a close, an attempt) plans from its endpoints only. */
  private accountsByGroup = new Map<string, string[]>();
  private periodTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Monotonic ms the retry timer wakes at (Infinity: none set). */
  private retryTimerAt = Infinity;
  private running: Promise<void> | undefined;
  /** Groups whose candidates are being tried right now (one attempt chain per group). */
  private readonly inFlight = new Map<string, Promise<void>>();
  private again = false;
  private stopped = false;
  readonly startedAt: Date;
  readonly deliveries: Deliveries;
  /** The REST client COMMAND REQUESTs and the poller call NetBackup through. */
  private readonly rest: RestLifecycle;
  private pollTimer: NodeJS.Timeout | undefined;
  /** The connection states `list` and `show` read, written to the store in batches. */
  private readonly states: ConnectionStates;

  constructor(private readonly options: DaemonOptions) {
    this.startedAt = this.now();
    this.states = new ConnectionStates(options.store, options.log, () => this.now());
    this.deliveries = new Deliveries({
      store: options.store,
      log: options.log,
      connectionFor: (g) => this.connectionOf(g),
      resendMs: () => this.options.properties()['notification.scheduledRate'] * 1000,
      now: () => this.now(),
      mono: () => this.mono(),
      events: {
        sent: (groupId, first) => {
          (first ? options.metrics?.messagesSent : options.metrics?.messagesResent)?.inc({ group: groupId });
          this.changed();
        },
        acknowledged: (groupId, count, oldest) => {
          options.metrics?.acknowledged.inc({ group: groupId }, count);
          if (oldest) options.metrics?.ackLatency.observe(Math.max(0, (this.now().getTime() - Date.parse(oldest)) / 1000));
          this.changed();
        },
      },
    });
    this.rest = new RestLifecycle({
      properties: options.properties,
      pin: () => options.store.getMeta(API_PIN_META),
      log: options.log,
      metrics: options.metrics,
    });
    this.poller = new Poller({
      store: options.store,
      secrets: options.secrets,
      log: options.log,
      properties: options.properties,
      api: () => this.rest.current,
      now: () => this.now(),
      queued: (r, count) => this.notified(r.refused, r.queued, count),
      changed: () => this.changed(),
      polled: (source, outcome, found) => {
        options.metrics?.polls.inc({ source, outcome });
        if (found) options.metrics?.pollNotifications.inc({ source }, found);
        if (outcome === 'ok') options.metrics?.lastGoodPoll.set({ source }, Date.now() / 1000);
      },
    });
    this.coordinator = options.sharedUrl
      ? coordinatorFor(
          options.sharedUrl,
          {
            store: options.store,
            secrets: options.secrets,
            log: options.log,
            deliveries: this.deliveries,
            states: this.states,
            poller: this.poller,
            now: () => this.now(),
            reconcile: () => this.reconcile(),
            closed: (groupId) => this.groupClosed(groupId),
          },
          options.coordination,
        )
      : undefined;
    // On a shared store the poller runs where the poller lock is held.
    if (this.coordinator) this.poller.setActive(false);
  }

  /** The REST API poller (where notifications come from without nbwss notify). */
  readonly poller: Poller;
  /** On a shared store: which groups this daemon serves. */
  readonly coordinator: Coordinator | undefined;
  /** Sockets of connections closed by a reconcile, per group, until they are down. */
  private readonly closing = new Map<string, Promise<void>[]>();

  /** Resolves once the group's connections closed by a reconcile and its attempt chain (if any) are done. */
  private async groupClosed(groupId: string): Promise<void> {
    await Promise.all([...(this.closing.get(groupId) ?? []), this.inFlight.get(groupId)]);
    this.closing.delete(groupId);
  }

  private readonly watchers = new Set<() => void>();
  /** Be told when something `status` shows may have changed (the live view). Returns how to stop. */
  onChange(fn: () => void): () => void {
    this.watchers.add(fn);
    return () => this.watchers.delete(fn);
  }

  private changed(): void {
    for (const w of this.watchers) w();
  }

  /** The group's established connection (looked up among the group's endpoints: deliveries ask on every event). */
  private connectionOf(groupId: string): EndpointConnection | undefined {
    for (const account of this.accountsByGroup.get(groupId) ?? []) {
      const conn = this.conns.get(account);
      if (conn?.state === 'established' && conn.target.groupId === groupId) return conn;
    }
    return undefined;
  }

  private now(): Date {
    return this.options.now ? this.options.now() : new Date();
  }

  private mono(): number {
    return this.options.monotonic ? this.options.monotonic() : performance.now();
  }

  async start(): Promise<void> {
    if (this.stopped) return;
    // A shared store's connection states are other daemons' too: a group's are reset when it is taken.
    if (!this.coordinator) this.options.store.write(() => this.options.store.endpoints.resetConnections(this.now().toISOString()));
    this.schedulePeriod();
    await this.coordinator?.start();
    return this.reconcile();
  }

  /** Re-read the properties (SIGHUP) and reconcile; live connections take the new values at once. */
  reload(): Promise<void> {
    this.schedulePeriod();
    const settings = this.settings();
    for (const conn of this.conns.values()) conn.applySettings(settings);
    return this.reconcile();
  }

  /** Notifications were queued (nbwss notify): send to idle groups now. */
  notified(refused: { groupId: string; pending: number }[] = [], queued: string[] = [], count = 0): void {
    for (const g of queued) this.options.metrics?.notificationsAccepted.inc({ group: g }, count);
    for (const refusal of refused) {
      this.options.metrics?.notificationsRefused.inc({ group: refusal.groupId }, count);
      this.options.log.warn(
        { group: safeGroup(refusal.groupId), pending: refusal.pending },
        'notifications refused for a group: its outbox is full (notification.maxQueued); its cloud has been away',
      );
    }
    this.deliveries.pumpAll();
  }

  private schedulePeriod(): void {
    clearInterval(this.periodTimer);
    this.periodTimer = setInterval(() => void this.reconcile(), this.options.properties()['connectionInfo.period'] * 1000);
    // The guide's design polls for notifications every scheduledRate: the safety net under the nudges.
    clearInterval(this.pollTimer);
    this.pollTimer = setInterval(() => {
      try {
        this.deliveries.pumpAll();
      } catch (e) {
        this.options.log.error({ err: (e as Error).message }, 'notification poll failed');
      }
    }, this.options.properties()['notification.scheduledRate'] * 1000);
  }

  /** Reconcile now; a request while one runs makes one more run after it. */
  reconcile(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    // The body runs after the assignment (it awaits nothing itself, and would otherwise finish first).
    this.running = Promise.resolve().then(() => {
      try {
        do {
          this.again = false;
          this.reconcileOnce();
        } while (this.again && !this.stopped);
      } catch (e) {
        this.options.log.error({ err: (e as Error).message }, 'reconcile failed');
      } finally {
        this.running = undefined;
      }
      const connected = [...this.conns.values()].filter((c) => c.state === 'established').length;
      const groups = this.accountsByGroup.size;
      this.options.log.info({ groups, connected, attempting: this.inFlight.size }, 'reconciled');
      this.changed();
    });
    return this.running;
  }

  /** What the daemon may connect to now, each with its token (chooseTargets); why the others cannot is recorded. */
  private targets(): Map<string, ConnectTarget> {
    // A shared store: only the groups this daemon holds.
    const entries = this.options.store.endpoints.list({ state: 'ACTIVATED' }).filter((r) => !this.coordinator || this.coordinator.owns(r.groupId));
    const tokens = this.tokensOf(entries.map((r) => accountFor(r.hostName)));
    const chosen = chooseTargets({
      entries,
      conflicts: this.options.store.endpoints.hostConflicts(),
      account: accountFor,
      token: (account) => (tokens ? tokens.get(account) : this.options.secrets.get(account)),
      tokenSeen: (account) => this.targetsSeen.get(account)?.token,
    });
    for (const { entry, reason } of chosen.refused) this.recordError(entry, reason);
    if (chosen.keptTokens > 0)
      this.options.log.warn(
        { endpoints: chosen.keptTokens, err: chosen.secretStoreError },
        'the secret store cannot be read: endpoints keep the tokens read before (live connections stay open)',
      );
    return chosen.targets;
  }

  /**
   * Every token in one read of the secret store (the file store: its key and file once, not once per endpoint: at
   * 20,000 endpoints a reconcile held the event loop for a second). If that read fails, undefined: each endpoint is
   * then asked alone, so each records the secret store's own error, as before.
   */
  private tokensOf(accounts: string[]): Map<string, string | undefined> | undefined {
    try {
      return this.options.secrets.getMany(accounts);
    } catch {
      return undefined;
    }
  }

  /** The planner's view of now: every endpoint and connection (a reconcile). */
  private plan(): Action[] {
    const connections = [...this.conns].map(([account, c]) => toPlanConnection(account, c));
    const endpoints = [...this.targetsSeen].map(([account, t]) => toPlanEndpoint(account, t));
    return plan({ endpoints, connections, failures: this.failures, now: this.mono() });
  }

  /**
   * The planner's view of one group: its endpoints and their connections. The same decisions for that group as
   * plan() (after a reconcile every connection belongs to an endpoint seen, in its group), at a cost that does not
   * grow with the number of groups — failover and start-up plan once per group.
   */
  private planGroup(groupId: string): Action[] {
    const accounts = this.accountsByGroup.get(groupId) ?? [];
    const endpoints = accounts.map((account) => toPlanEndpoint(account, this.targetsSeen.get(account)!));
    const connections: PlanConnection[] = [];
    for (const account of accounts) {
      const conn = this.conns.get(account);
      if (conn) connections.push(toPlanConnection(account, conn));
    }
    return plan({ endpoints, connections, failures: this.failures, now: this.mono() });
  }

  private see(targets: Map<string, ConnectTarget>): void {
    this.targetsSeen = targets;
    this.accountsByGroup = new Map();
    for (const [account, t] of targets) {
      const accounts = this.accountsByGroup.get(t.groupId);
      if (accounts) accounts.push(account);
      else this.accountsByGroup.set(t.groupId, [account]);
    }
  }

  private reconcileOnce(): void {
    try {
      this.see(this.targets());
    } catch (e) {
      // The store cannot be read (a shared store away): keep what was seen, but never a group this daemon no longer
      // holds — its connections are closed now, before its lock is released.
      const coordinator = this.coordinator;
      if (coordinator) this.see(new Map([...this.targetsSeen].filter(([, target]) => coordinator.owns(target.groupId))));
      this.options.log.error({ err: (e as Error).message }, 'the store cannot be read: connections are kept as they are');
    }
    try {
      this.rest.refresh();
    } catch (e) {
      this.options.log.error({ err: (e as Error).message }, 'could not refresh the REST client settings');
    }
    try {
      this.poller.refresh();
    } catch (e) {
      this.options.log.error({ err: (e as Error).message }, 'could not refresh the REST API poller');
    }
    try {
      dropOrphanedOutboxes(this.options.store, this.options.log, (groupId) => this.deliveries.forget(groupId));
    } catch (e) {
      // Connecting matters more: the drop is tried again at the next reconcile.
      if (!(e instanceof StoreBusy))
        this.options.log.error({ err: (e as Error).message }, 'could not drop the notifications of groups without an ACTIVATED endpoint');
    }
    for (const action of this.plan()) {
      if (action.kind === 'close') {
        const conn = this.conns.get(action.account)!;
        this.options.log.info({ host: conn.target.hostName, why: action.why }, 'closing connection');
        this.conns.delete(action.account);
        this.establishedAt.delete(action.account);
        conn.close(1000, action.why);
        const { groupId } = conn.target;
        this.closing.set(groupId, [...(this.closing.get(groupId) ?? []), conn.socketClosed()]);
        this.writeState(conn.target, 'DISCONNECTED', null);
      }
    }
    // Attempts run on their own: a slow endpoint never holds up the next reconcile (a nudge takes effect at once).
    const actions = this.plan();
    for (const a of actions) if (a.kind === 'connect') this.startGroup(a.groupId);
    // Every group's back-off is in this plan: the retry timer is set from it afresh.
    clearTimeout(this.retryTimer);
    this.retryTimerAt = Infinity;
    this.lookAgainAt(actions);
  }

  /** Serve a group: connect its first candidate; after a failure the planner names the next. */
  private async serveGroup(groupId: string): Promise<void> {
    while (!this.stopped) {
      const next = this.planGroup(groupId).find((a): a is Extract<Action, { kind: 'connect' }> => a.kind === 'connect');
      if (!next) return;
      const account = next.candidates[0]!;
      const target = this.targetsSeen.get(account)!;
      const conn = new EndpointConnection(target, this.settings(), this.options.log, this.rest.commands);
      this.conns.set(account, conn);
      this.options.metrics?.connectAttempts.inc();
      const started = this.mono();
      try {
        await conn.connect();
      } catch (e) {
        if (this.conns.get(account) !== conn) continue; // closed by a reconcile (deactivated, deleted, changed)
        this.conns.delete(account);
        const reason = e instanceof ConnectError ? e.message : String(e);
        this.options.metrics?.connectFailed(reason);
        this.fail(target, reason);
        continue;
      }
      this.options.metrics?.connectDuration.observe((this.mono() - started) / 1000);
      if (this.conns.get(account) !== conn || this.stopped) {
        conn.close(1000, 'no longer wanted');
        return;
      }
      // The failure count is kept until the connection proves stable (onClosed): an endpoint that accepts and then
      // breaks the protocol at once backs off 1, 2, 4 … s like one that refuses.
      this.lastErrors.delete(account);
      this.establishedAt.set(account, this.mono());
      this.options.log.info({ host: target.hostName, group: groupId, priority: target.priority }, 'connected');
      this.writeState(target, 'CONNECTED', null);
      conn.once('closed', (reason: string) => this.onClosed(account, conn, reason));
      conn.on('notification-response', (message) => this.deliveries.onResponse(groupId, message));
      // The message in flight (or the next batch) goes to the group's new connection at once.
      this.deliveries.pump(groupId);
      return;
    }
  }

  private onClosed(account: string, conn: EndpointConnection, reason: string): void {
    if (this.conns.get(account) !== conn) return; // closed by us, already accounted for
    this.conns.delete(account);
    const lived = this.mono() - (this.establishedAt.get(account) ?? this.mono());
    this.establishedAt.delete(account);
    this.options.metrics?.connectionsEnded.inc({ by: reason.startsWith('closed by nbwss') ? 'nbwss' : 'endpoint' });
    this.options.log.warn({ host: conn.target.hostName, reason, livedMs: Math.round(lived) }, 'connection ended; the group picks again');
    if (lived >= STABLE_MS) this.failures.delete(account);
    if (endedAsFailure(lived, reason)) this.fail(conn.target, reason);
    else {
      this.failures.delete(account);
      this.lastErrors.set(account, reason);
      this.writeState(conn.target, 'DISCONNECTED', reason);
    }
    // Fail over at once: only this group picks again, from the endpoints the last reconcile saw
    // (a burst of closes must not cost a full reconcile each).
    this.startGroup(conn.target.groupId);
  }

  private startGroup(groupId: string): void {
    if (this.stopped || this.inFlight.has(groupId)) return;
    const attempt = this.serveGroup(groupId)
      .catch((e) =>
        this.options.log.error({ group: safeGroup(groupId), err: (e as Error).message }, 'serving a group failed: tried again at the next reconcile'),
      )
      .finally(() => {
        this.inFlight.delete(groupId);
        // Only this group's back-off changed: the timer wakes for it if sooner than for the others.
        this.lookAgainAt(this.planGroup(groupId));
      });
    this.inFlight.set(groupId, attempt);
  }

  private fail(entry: Entry, reason: string): void {
    const { hostName } = entry;
    const account = accountFor(hostName);
    const now = this.mono();
    const failure = nextFailure(this.failures.get(account), now, this.options.properties()['connectionInfo.period'] * 1000);
    this.failures.set(account, failure);
    this.options.log.warn({ host: hostName, reason, retryInMs: Math.round(failure.nextAt - now) }, 'connection attempt failed');
    this.recordError(entry, reason);
  }

  private recordError(entry: Entry, reason: string): void {
    const account = accountFor(entry.hostName);
    if (this.lastErrors.get(account) === reason) return;
    this.lastErrors.set(account, reason);
    this.writeState(entry, 'DISCONNECTED', reason);
  }

  /** Reconcile when the planner's `retryAt` says a back-off ends, unless the timer already wakes sooner. */
  private lookAgainAt(actions: readonly Action[]): void {
    const retry = actions.find((a): a is Extract<Action, { kind: 'retryAt' }> => a.kind === 'retryAt');
    if (this.stopped || !retry || retry.at >= this.retryTimerAt) return;
    clearTimeout(this.retryTimer);
    this.retryTimerAt = retry.at;
    this.retryTimer = setTimeout(
      () => {
        this.retryTimerAt = Infinity;
        void this.reconcile();
      },
      Math.max(0, retry.at - this.mono()) + 10,
    );
  }

  private writeState(entry: Entry, state: 'CONNECTED' | 'DISCONNECTED', lastError: string | null): void {
    this.states.record(entry, state, lastError);
    this.changed();
  }

  private settings(): ConnectionSettings {
    return connectionSettings(this.options.properties());
  }

  status(): {
    groups: GroupStatus[];
    api: { baseUrl: string; trust: string; auth: string; version: string | null };
    polling: SourceStatus[];
    cluster?: ClusterView & { serving: string[] };
  } {
    const coordinator = this.coordinator;
    const owners = new Map<string, string>();
    for (const daemon of coordinator?.lastView.daemons ?? []) for (const groupId of daemon.groups) owners.set(groupId, `${daemon.host} pid ${daemon.pid}`);
    const groups = groupStatuses({
      entries: this.options.store.endpoints.listRows(),
      outboxes: this.options.store.outbox.groups(),
      now: this.now().getTime(),
      account: accountFor,
      connection: (account) => this.conns.get(account),
      lastError: (account) => this.lastErrors.get(account),
      delivery: (groupId) => this.deliveries.status(groupId),
      ...(coordinator ? { shared: { owners, owns: (groupId: string) => coordinator.owns(groupId) } } : {}),
    });
    return {
      groups,
      api: {
        ...this.rest.view(),
        auth: this.poller.auth,
        version: this.poller.version,
      },
      polling: this.poller.status(),
      ...(this.coordinator ? { cluster: { ...this.coordinator.lastView, serving: [...this.coordinator.groups].sort() } } : {}),
    };
  }

  /** Close every connection with a normal close code and record it. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.periodTimer);
    clearInterval(this.pollTimer);
    clearTimeout(this.retryTimer);
    this.deliveries.stop();
    await this.poller.stop();
    const conns = [...this.conns.values()];
    this.conns.clear(); // first: these closes are ours, not the endpoints'
    for (const conn of conns) conn.close(1000, 'NBWSS daemon stopping');
    for (const c of conns) this.writeState(c.target, 'DISCONNECTED', null);
    // Stopping: the last states may wait for another writer a little longer; nothing else runs now.
    this.states.stop();
    try {
      this.options.store.setLockWait(5000);
      this.states.flush();
    } catch (e) {
      this.options.log.error({ err: (e as Error).message }, 'could not record the connection states on stopping');
    }
    await this.running;
    await Promise.all(this.inFlight.values());
    // A shared store: the sockets are down before the locks go (ending the session), never two connections for a group.
    if (this.coordinator) {
      await Promise.all(conns.map((c) => c.socketClosed()));
      await this.coordinator.stop();
    }
    await this.rest.close();
  }
}

/** Group ids come from details files: text from outside. */
const safeGroup = (g: string) => safeText(g);
