import type { DaemonStatus } from '../../src/cli/commands/status.js';

/** The time the fixture's relative times are read at. */
export const STATUS_NOW = Date.parse('2026-12-02T12:00:00Z');
/** A daemon's status answer for a small installation: one group connected with notifications in flight, one down. */
export const STATUS: DaemonStatus = {
  protocol: 1,
  pid: 4321,
  home: '/var/lib/nbwss',
  startedAt: '2026-12-02T08:48:00Z',
  uptimeSeconds: 3 * 3600 + 12 * 60 + 5,
  secretStore: 'file',
  properties: { 'log.level': 'info' },
  api: { baseUrl: 'https://primary.example:1556/netbackup', trust: 'pinned', auth: 'API key', version: '13.0' },
  polling: [
    { source: 'jobs', enabled: true, cursor: null, lastPollAt: '2026-12-02T11:59:48Z', lastOkAt: '2026-12-02T11:59:48Z', lastError: null, events: 4 },
    { source: 'images', enabled: false, cursor: null, lastPollAt: null, lastOkAt: null, lastError: null, events: 0 },
  ],
  groups: [
    {
      groupId: 'prod',
      connected: 'cloud1.example',
      since: '2026-12-02T09:00:00Z',
      endpoints: [
        { hostName: 'cloud1.example', priority: 1, connection: 'CONNECTED', lastError: null },
        { hostName: 'cloud2.example', priority: 2, connection: 'DISCONNECTED', lastError: null },
      ],
      notifications: {
        pending: 3,
        oldestPendingAgeSeconds: 75,
        inFlight: { id: 'A', count: 3, attempts: 1, since: '2026-12-02T11:59:59Z' },
        acknowledged: 40,
        lastAcknowledgedAt: '2026-12-02T11:58:00Z',
        refused: 0,
        dropped: 0,
      },
    },
    {
      groupId: 'dr',
      connected: null,
      since: null,
      endpoints: [
        {
          hostName: 'dr.example',
          priority: 1,
          connection: 'DISCONNECTED',
          lastError: 'The certificate did not match with the one accepted by the user, please verify the certificate',
        },
      ],
      notifications: { pending: 0, oldestPendingAgeSeconds: null, inFlight: null, acknowledged: 0, lastAcknowledgedAt: null, refused: 0, dropped: 0 },
    },
  ],
};
