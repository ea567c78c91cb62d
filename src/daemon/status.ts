import type { DaemonStatus } from '../core/daemon-protocol.js';
import type { EndpointRow } from '../core/store/db.js';
import type { GroupOutbox } from '../core/store/outbox.js';
import type { GroupDelivery } from './delivery.js';

/** A group as the control protocol carries it (src/core/daemon-protocol.ts): the daemon's own shape must fit it. */
type WireGroup = DaemonStatus['groups'][number];

export interface GroupStatus extends WireGroup {
  groupId: string;
  connected: string | null;
  since: string | null;
  endpoints: { hostName: string; priority: number; connection: 'CONNECTED' | 'CONNECTING' | 'DISCONNECTED'; lastError: string | null }[];
  /** The group's notifications: pending, the oldest pending's age, the message in flight, acknowledged/refused/dropped. */
  notifications: Omit<GroupOutbox, 'groupId'> & GroupDelivery & { oldestPendingAgeSeconds: number | null };
  /** What the connected endpoint's connection uses now (property changes reach live connections). */
  inForce: { keepAliveMs: number; maxPongMiss: number; maxCommandsInFlight: number } | null;
  /** A shared store: the daemon serving the group (host and pid), null when none does. */
  owner?: string | null;
}

/** A live connection as the status shows it. */
export interface LiveConnection {
  state: 'connecting' | 'established' | 'closed';
  since: Date;
  inForce: { keepAliveMs: number; maxPongMiss: number; maxCommandsInFlight: number };
}

/** What the daemon knows, as the group status is built from it: read once per status, nothing written. */
export interface StatusInputs {
  /** The store's entries (only ACTIVATED ones make a group's endpoints). */
  entries: readonly EndpointRow[];
  outboxes: readonly GroupOutbox[];
  /** Wall-clock ms (the oldest pending notification's age). */
  now: number;
  /** The entry's secret-store account: how the daemon's own maps name it. */
  account(hostName: string): string;
  connection(account: string): LiveConnection | undefined;
  lastError(account: string): string | undefined;
  delivery(groupId: string): GroupDelivery;
  /** A shared store: which daemon serves each group, and whether this one does. Absent for a store of its own. */
  shared?: { owners: ReadonlyMap<string, string>; owns(groupId: string): boolean };
}

const EMPTY_OUTBOX: Omit<GroupOutbox, 'groupId'> = {
  pending: 0,
  oldestAcceptedAt: null,
  acknowledged: 0,
  lastAcknowledgedAt: null,
  refused: 0,
  lastRefusedAt: null,
  dropped: 0,
};

/**
 * Each group with an ACTIVATED endpoint, or with notifications still pending (about to be dropped): which endpoint is
 * connected since when, each endpoint's connection and last error, and its notifications. A pure function of what
 * the daemon knows, so that `nbwss status` is tested without a daemon (test/core/daemon-status.test.ts).
 */
export function groupStatuses(inputs: StatusInputs): GroupStatus[] {
  const byGroup = new Map<string, GroupStatus>();
  const outboxes = new Map(inputs.outboxes.map((g) => [g.groupId, g]));
  const group = (groupId: string): GroupStatus => {
    const known = byGroup.get(groupId);
    if (known) return known;
    const { groupId: _, ...ob } = outboxes.get(groupId) ?? { groupId, ...EMPTY_OUTBOX };
    const group: GroupStatus = {
      groupId,
      connected: null,
      since: null,
      endpoints: [],
      notifications: {
        ...ob,
        oldestPendingAgeSeconds: ob.oldestAcceptedAt ? Math.max(0, Math.round((inputs.now - Date.parse(ob.oldestAcceptedAt)) / 1000)) : null,
        ...inputs.delivery(groupId),
      },
      inForce: null,
    };
    byGroup.set(groupId, group);
    return group;
  };
  for (const r of inputs.entries) {
    if (r.state !== 'ACTIVATED') continue;
    const status = group(r.groupId);
    if (inputs.shared) status.owner = inputs.shared.owners.get(r.groupId) ?? null;
    if (inputs.shared && !inputs.shared.owns(r.groupId)) {
      // Another daemon's group: as that daemon recorded it in the shared store.
      if (r.connectionState === 'CONNECTED') status.connected = r.hostName;
      status.endpoints.push({ hostName: r.hostName, priority: r.priority, connection: r.connectionState, lastError: null });
      continue;
    }
    const account = inputs.account(r.hostName);
    const live = inputs.connection(account);
    const connection = live?.state === 'established' ? 'CONNECTED' : live?.state === 'connecting' ? 'CONNECTING' : 'DISCONNECTED';
    if (live && connection === 'CONNECTED') {
      status.connected = r.hostName;
      status.since = live.since.toISOString();
      const settings = live.inForce;
      status.inForce = { keepAliveMs: settings.keepAliveMs, maxPongMiss: settings.maxPongMiss, maxCommandsInFlight: settings.maxCommandsInFlight };
    }
    status.endpoints.push({ hostName: r.hostName, priority: r.priority, connection, lastError: inputs.lastError(account) ?? null });
  }
  for (const [g, ob] of outboxes) if (ob.pending > 0) group(g);
  return [...byGroup.values()];
}
