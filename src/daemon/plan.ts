/**
 * The daemon's decisions as one pure function (guide, chapter 1, "Notes on
 * NetBackup connections to cloud-applications"):
 *
 * - a server group without a live connection connects to its ACTIVATED
 *   endpoint of the highest priority (the lowest number; ties by host name);
 *   if that fails, the next one;
 * - at most one connection per endpoint and per server group;
 * - a working connection is never closed because a higher-priority endpoint
 *   came back (the cloud application closes it when it wants the group to move);
 * - a deactivated or deleted endpoint, or one whose url, pin, token or group
 *   changed, is disconnected, and its group picks again;
 * - an endpoint that keeps failing is retried after 1, 2, 4 … s, never more
 *   than the period; a connection that lived under 5 s counts as a failure.
 *
 * Time is a monotonic clock in milliseconds (performance.now()): a step of
 * the wall clock changes no decision.
 */

export interface PlanEndpoint {
  /** The canonical host name (the secret store's account). */
  account: string;
  groupId: string;
  priority: number;
  /** What a live connection was opened with; a different value means it must be reopened. */
  url: string;
  pin: string;
  token: string;
}

export interface PlanConnection {
  account: string;
  groupId: string;
  state: 'connecting' | 'established';
  url: string;
  pin: string;
  token: string;
}

export interface Failure {
  /** Failures in a row. */
  count: number;
  /** Monotonic ms before which the endpoint is not tried again. */
  nextAt: number;
}

export interface PlanInput {
  endpoints: readonly PlanEndpoint[];
  connections: readonly PlanConnection[];
  failures: ReadonlyMap<string, Failure>;
  /** Monotonic ms. */
  now: number;
}

export type Action =
  | { kind: 'close'; account: string; why: string }
  /** Try these endpoints of the group in turn (the first that connects serves it). */
  | { kind: 'connect'; groupId: string; candidates: string[] }
  /** Nothing to try now: look again at this monotonic time. */
  | { kind: 'retryAt'; at: number };

/** A connection that ends within this long counts as a failure (back-off), so a flapping endpoint cannot cause a storm. */
export const SHORT_LIVED_MS = 5_000;
export const BASE_BACKOFF_MS = 1_000;

/** Why a live connection no longer fits its endpoint, or undefined when it does. */
export function mismatch(conn: PlanConnection, endpoint: PlanEndpoint | undefined): string | undefined {
  if (!endpoint) return 'deactivated or deleted';
  if (conn.url !== endpoint.url) return 'url changed';
  if (conn.pin !== endpoint.pin) return 'pin changed';
  if (conn.token !== endpoint.token) return 'token changed';
  if (conn.groupId !== endpoint.groupId) return 'group changed';
  return undefined;
}

/** Priority order within a group: the lower number first, ties by host name. */
export const byPriority = (a: PlanEndpoint, b: PlanEndpoint): number => a.priority - b.priority || (a.account < b.account ? -1 : a.account > b.account ? 1 : 0);

export function plan(input: PlanInput): Action[] {
  const actions: Action[] = [];
  const wanted = new Map(input.endpoints.map((e) => [e.account, e]));
  const busy = new Set<string>();
  for (const c of input.connections) {
    const why = mismatch(c, wanted.get(c.account));
    if (why) actions.push({ kind: 'close', account: c.account, why });
    else busy.add(c.groupId);
  }
  const groups = new Map<string, PlanEndpoint[]>();
  for (const e of input.endpoints) groups.set(e.groupId, [...(groups.get(e.groupId) ?? []), e]);
  let retryAt = Infinity;
  for (const [groupId, members] of groups) {
    if (busy.has(groupId)) continue; // one connection per group; no preemption
    const ready: PlanEndpoint[] = [];
    for (const e of members) {
      const nextAt = input.failures.get(e.account)?.nextAt ?? -Infinity;
      if (nextAt <= input.now) ready.push(e);
      else retryAt = Math.min(retryAt, nextAt);
    }
    if (ready.length > 0) actions.push({ kind: 'connect', groupId, candidates: ready.sort(byPriority).map((e) => e.account) });
  }
  if (retryAt !== Infinity) actions.push({ kind: 'retryAt', at: retryAt });
  return actions;
}

/** The failure history after one more failure at `now`: 1, 2, 4 … s, never more than the period. */
export function nextFailure(previous: Failure | undefined, now: number, periodMs: number): Failure {
  const count = previous?.count ?? 0;
  return { count: count + 1, nextAt: now + Math.min(periodMs, BASE_BACKOFF_MS * 2 ** count) };
}

/**
 * Whether a connection that ended counts as a failure: it lived too short, or it was unhealthy — which includes
 * every close nbwss made itself for what the endpoint did (1007, 1009, 1011, missed pongs): whoever closes, the
 * same back-off.
 */
export function endedAsFailure(livedMs: number, reason: string): boolean {
  return livedMs < SHORT_LIVED_MS || /pongs missed|decoder error/.test(reason) || /^closed by nbwss \(\d{4}\)/.test(reason);
}

/** A connection that lived this long before it ended starts its failure count afresh. */
export const STABLE_MS = 60_000;
