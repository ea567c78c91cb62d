/**
 * The control socket between the CLI and the daemon (daemon.sock in the
 * store directory): one JSON line each way. Both sides import this file, so
 * the shape the daemon answers is the shape the CLI reads; `protocol` says
 * which version of it a daemon speaks, so that a CLI upgraded under a running
 * daemon says so instead of misreading it.
 */
export const CONTROL_PROTOCOL = 1;

export type ControlRequest =
  | { cmd: 'reconcile' }
  | { cmd: 'status' }
  | { cmd: 'poll' }
  | { cmd: 'watch' }
  | { cmd: 'notify'; count: number; queued: string[]; refused: { groupId: string; pending: number }[] };

/** What the daemon answers on its socket (`status` and each line of `watch`). */
export interface DaemonStatus {
  /** The control protocol this daemon speaks (CONTROL_PROTOCOL); absent from daemons before it was versioned. */
  protocol?: number;
  /** The nbwss version of the daemon. */
  version?: string;
  pid: number;
  /** The daemon's NBWSS_HOME. */
  home?: string;
  startedAt: string;
  uptimeSeconds: number;
  secretStore: string;
  /** The store the daemon serves (a home's socket may belong to a daemon of another store). */
  storeId?: string;
  /** The store did not answer when the daemon assembled this status (a shared store away). */
  storeError?: string;
  /** How long the daemon's event loop was held, p99 and worst, in ms (the last one to two minutes). */
  eventLoopLag?: { p99Ms: number; maxMs: number };
  properties: Record<string, unknown>;
  api?: { baseUrl: string; trust: string; auth?: string; version?: string | null };
  /** The REST API poller, per source (jobs, images). */
  polling?: PollingStatus[];
  /** A shared store: every daemon, and what this one serves. */
  cluster?: {
    id: string;
    serving: string[];
    daemons: { id: string; host: string; pid: number; startedAt: string; heartbeatAt: string; groups: string[]; poller: boolean; keyOk?: boolean | null }[];
  };
  groups: {
    groupId: string;
    connected: string | null;
    since: string | null;
    endpoints: { hostName: string; priority: number; connection: string; lastError: string | null }[];
    owner?: string | null;
    notifications?: {
      pending: number;
      oldestPendingAgeSeconds: number | null;
      inFlight: { id: string; count: number; attempts: number; since: string } | null;
      acknowledged: number;
      lastAcknowledgedAt: string | null;
      refused: number;
      dropped: number;
    };
  }[];
}

export interface PollingStatus {
  source: string;
  enabled?: boolean;
  cursor: string | null;
  lastPollAt: string | null;
  lastOkAt: string | null;
  lastError: string | null;
  events: number;
  paused?: string | null;
  nextPollInSeconds?: number | null;
  /** Something the poll saw that the administrator should know (a job dated after the primary's clock). */
  warning?: string | null;
}

/**
 * Why a daemon's answer cannot be read by this CLI (undefined when it can):
 * a daemon of another protocol version, typically one started before nbwss
 * was upgraded.
 */
export function protocolProblem(answer: { protocol?: unknown; version?: unknown }): string | undefined {
  if (answer.protocol === CONTROL_PROTOCOL) return undefined;
  const which = typeof answer.version === 'string' ? `nbwss ${answer.version}` : 'an older nbwss';
  const speaks = typeof answer.protocol === 'number' ? `control protocol ${answer.protocol}` : 'an unversioned control protocol';
  return `the running daemon is ${which} (${speaks}; this nbwss speaks ${CONTROL_PROTOCOL}): restart it to run this version (systemctl restart nbwss, or stop it and run nbwss daemon)`;
}
