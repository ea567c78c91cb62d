import { describe, expect, it } from 'vitest';
import type { EndpointRow } from '../../src/core/store/db.js';
import type { GroupOutbox } from '../../src/core/store/outbox.js';
import { groupStatuses, type LiveConnection, type StatusInputs } from '../../src/daemon/status.js';

// The daemon's status of its groups, built from plain data: no daemon, store or socket.
const NOW = Date.parse('2026-12-02T12:00:00Z');
const row = (hostName: string, groupId: string, priority: number, extra: Partial<EndpointRow> = {}): EndpointRow => ({
  hostName,
  url: `wss://${hostName}/x`,
  groupId,
  priority,
  state: 'ACTIVATED',
  connectionState: 'DISCONNECTED',
  notAfter: '2030-01-01T00:00:00.000Z',
  ...extra,
});
const outbox = (groupId: string, pending: number, oldestAcceptedAt: string | null = null): GroupOutbox => ({
  groupId,
  pending,
  oldestAcceptedAt,
  acknowledged: 5,
  lastAcknowledgedAt: '2026-12-02T11:00:00Z',
  refused: 0,
  lastRefusedAt: null,
  dropped: 0,
});
const inForce = { keepAliveMs: 30_000, maxPongMiss: 10, maxCommandsInFlight: 80 };
const live = (state: LiveConnection['state'], since = '2026-12-02T09:00:00Z'): LiveConnection => ({ state, since: new Date(since), inForce });
const inputs = (o: Partial<StatusInputs>): StatusInputs => ({
  entries: [],
  outboxes: [],
  now: NOW,
  account: (h) => `acct:${h}`,
  connection: () => undefined,
  lastError: () => undefined,
  delivery: () => ({ inFlight: null }),
  ...o,
});

describe('groupStatuses', () => {
  it('a store of its own: the live connection names the group’s endpoint, since when and what it uses; others their state and last error', () => {
    const groups = groupStatuses(
      inputs({
        entries: [row('a1', 'A', 1), row('a2', 'A', 2), row('b1', 'B', 1), row('off', 'B', 3, { state: 'DEACTIVATED' })],
        outboxes: [outbox('A', 3, '2026-12-02T11:58:45Z')],
        connection: (a) => ({ 'acct:a1': live('established'), 'acct:b1': live('connecting') })[a],
        lastError: (a) => (a === 'acct:a2' ? 'refused' : undefined),
        delivery: (g) => ({ inFlight: g === 'A' ? { id: 'M1', count: 3, attempts: 2, since: '2026-12-02T11:59:00Z' } : null }),
      }),
    );
    expect(groups).toEqual([
      {
        groupId: 'A',
        connected: 'a1',
        since: '2026-12-02T09:00:00.000Z',
        endpoints: [
          { hostName: 'a1', priority: 1, connection: 'CONNECTED', lastError: null },
          { hostName: 'a2', priority: 2, connection: 'DISCONNECTED', lastError: 'refused' },
        ],
        notifications: {
          pending: 3,
          oldestAcceptedAt: '2026-12-02T11:58:45Z',
          oldestPendingAgeSeconds: 75,
          acknowledged: 5,
          lastAcknowledgedAt: '2026-12-02T11:00:00Z',
          refused: 0,
          lastRefusedAt: null,
          dropped: 0,
          inFlight: { id: 'M1', count: 3, attempts: 2, since: '2026-12-02T11:59:00Z' },
        },
        inForce,
      },
      {
        groupId: 'B',
        connected: null,
        since: null,
        endpoints: [{ hostName: 'b1', priority: 1, connection: 'CONNECTING', lastError: null }],
        notifications: {
          pending: 0,
          oldestAcceptedAt: null,
          oldestPendingAgeSeconds: null,
          acknowledged: 0,
          lastAcknowledgedAt: null,
          refused: 0,
          lastRefusedAt: null,
          dropped: 0,
          inFlight: null,
        },
        inForce: null,
      },
    ]);
  });

  it('a group with notifications pending but no ACTIVATED endpoint is shown (about to be dropped); an empty one is not', () => {
    const groups = groupStatuses(inputs({ entries: [row('x', 'X', 1, { state: 'DEACTIVATED' })], outboxes: [outbox('X', 2), outbox('Y', 0)] }));
    expect(groups.map((g) => [g.groupId, g.endpoints.length, g.notifications.pending])).toEqual([['X', 0, 2]]);
  });

  it('a shared store: another daemon’s group as the store records it, with its owner; this daemon’s from its live connections', () => {
    const groups = groupStatuses(
      inputs({
        entries: [row('m1', 'MINE', 1), row('t1', 'THEIRS', 1, { connectionState: 'CONNECTED' }), row('n1', 'NOBODY', 1)],
        connection: (a) => (a === 'acct:m1' ? live('established') : undefined),
        lastError: () => 'ours only',
        shared: {
          owners: new Map([
            ['MINE', 'h1 pid 1'],
            ['THEIRS', 'h2 pid 2'],
          ]),
          owns: (g) => g === 'MINE',
        },
      }),
    );
    expect(groups.map((g) => ({ id: g.groupId, owner: g.owner, connected: g.connected, endpoints: g.endpoints }))).toEqual([
      { id: 'MINE', owner: 'h1 pid 1', connected: 'm1', endpoints: [{ hostName: 'm1', priority: 1, connection: 'CONNECTED', lastError: 'ours only' }] },
      { id: 'THEIRS', owner: 'h2 pid 2', connected: 't1', endpoints: [{ hostName: 't1', priority: 1, connection: 'CONNECTED', lastError: null }] },
      { id: 'NOBODY', owner: null, connected: null, endpoints: [{ hostName: 'n1', priority: 1, connection: 'DISCONNECTED', lastError: null }] },
    ]);
  });
});
