import { describe, expect, it } from 'vitest';
import type { DaemonStatus } from '../../src/cli/commands/status.js';
import { STATUS as base, STATUS_NOW as NOW } from '../helpers/status-fixture.js';
import { ago, duration, fixFor, statusView } from '../../src/cli/output/status-view.js';

// nbwss status at a glance: the exact lines for a small installation, piped (no colour) and with colour.

describe('statusView', () => {
  it('a header, one line per group, the problems last with their fix; no properties; relative times', () => {
    expect(statusView(base, { now: NOW, color: false })).toEqual([
      '● nbwss daemon: running · pid 4321 · up 3h12m · store /var/lib/nbwss · file secret store',
      '  REST: https://primary.example:1556/netbackup · API 13.0 · API key · jobs polled 12s ago',
      '',
      '  GROUP  CONNECTED TO                 SINCE  PENDING          OLDEST  LAST ACK',
      '● prod   cloud1.example (priority 1)  3h00m  3 (3 in flight)  1m15s   2m00s ago',
      '✗ dr     not connected                -      0                -       -',
      '',
      'Problems:',
      '  ✗ group dr: dr.example: The certificate did not match with the one accepted by the user, please verify the certificate',
      '    fix: nbwss repin dr.example (after checking the new certificate with its provider)',
    ]);
  });

  it('colour by state when it is on: green for connected, red for down, the header dot yellow while something fails', () => {
    const lines = statusView(base, { now: NOW, color: true });
    expect(lines[0]!.startsWith('\x1b[33m●\x1b[0m nbwss daemon: running')).toBe(true);
    expect(lines[4]!.startsWith('\x1b[32m●\x1b[0m prod')).toBe(true);
    expect(lines[5]!.startsWith('\x1b[31m✗\x1b[0m dr')).toBe(true);
    expect(statusView({ ...base, groups: [base.groups[0]!] }, { now: NOW, color: true })[0]!.startsWith('\x1b[32m●')).toBe(true);
  });

  it('a shared store: who owns each group; text from outside is escaped', () => {
    const s: DaemonStatus = {
      ...base,
      api: undefined,
      polling: [],
      cluster: {
        id: 'a',
        serving: ['prod'],
        daemons: [
          { id: 'a', host: 'h1', pid: 1, startedAt: '', heartbeatAt: '', groups: ['prod'], poller: true },
          { id: 'b', host: 'h2', pid: 2, startedAt: '', heartbeatAt: '', groups: [], poller: false, keyOk: false },
        ],
      },
      groups: [{ ...base.groups[0]!, owner: 'h1 pid 1', groupId: 'pr\u001bod' }],
    };
    const lines = statusView(s, { now: NOW, color: false });
    expect(lines[0]).toBe(
      '● nbwss daemon: running · pid 4321 · up 3h12m · store /var/lib/nbwss (shared PostgreSQL) · 2 daemons, this one serves 1 · file secret store',
    );
    expect(lines[1]).toBe('  REST: not set up (nbwss api key set, nbwss config set api.baseUrl URL)');
    expect(lines[3]).toMatch(/ OWNER$/);
    expect(lines[4]).toMatch(/^● pr\\u001bod +cloud1\.example .* h1 pid 1$/);
    expect(lines).toContain("  ✗ daemon h2 pid 2 serves no group: its key file does not open the store's tokens (nbwss doctor)");
  });

  it('durations in the two largest units; times ago; fixes by what the error says', () => {
    expect([5, 65, 3600 * 3 + 720, 86_400 * 2 + 3600 * 4].map(duration)).toEqual(['5s', '1m05s', '3h12m', '2d04h']);
    expect(ago('2026-12-02T11:59:30Z', NOW)).toBe('30s ago');
    expect(ago(null, NOW)).toBe('-');
    expect(fixFor('h', 'the CONNECT RESPONSE said valid: false (token refused)')).toBe('nbwss token set h < token.txt');
    expect(fixFor('h', 'Unable to establish connection with host: h')).toBe('nbwss check h (is it reachable from here?)');
  });
});

describe('noDaemonView', () => {
  it('no daemon here: what waits in the store and, on a shared store, every live daemon; escaped, no colour when off', async () => {
    const { noDaemonView } = await import('../../src/cli/output/status-view.js');
    expect(
      noDaemonView(
        {
          running: false,
          shared: true,
          home: '/h',
          daemons: [
            { id: 'a', host: 'h1', pid: 7, startedAt: '', heartbeatAt: '2026-12-02T11:59:58Z', groups: ['g0', 'g1'], poller: true },
            { id: 'b', host: 'h2', pid: 8, startedAt: '', heartbeatAt: '2026-12-02T11:59:59Z', groups: [], poller: false, keyOk: false },
          ],
          outbox: [{ groupId: 'g\u001b2', pending: 4, oldestAcceptedAt: '2026-12-02T11:58:55Z' }],
          polling: ['polling jobs: on'],
        },
        { now: NOW, color: false },
      ),
    ).toEqual([
      '○ nbwss daemon: none on this host (start one with: nbwss daemon, or systemctl start nbwss) · store /h',
      '  shared store: 2 daemons live',
      '  ● daemon h1 pid 7: 2 groups (g0, g1), polls the REST API, heartbeat 2s ago',
      '  ✗ daemon h2 pid 8: 0 groups, heartbeat 1s ago',
      "    serves no group: its key file does not open the store's tokens (nbwss doctor)",
      '',
      '  waiting in the store:',
      '    GROUP     PENDING  OLDEST',
      '    g\\u001b2  4        1m05s ago (2026-12-02T11:58:55Z)',
      'polling jobs: on',
    ]);
  });
});

describe('the control protocol', () => {
  it('a daemon of this protocol is read; another, or one from before it was versioned, is named with the fix', async () => {
    const { CONTROL_PROTOCOL, protocolProblem } = await import('../../src/core/daemon-protocol.js');
    expect(protocolProblem({ protocol: CONTROL_PROTOCOL })).toBeUndefined();
    expect(protocolProblem({ protocol: CONTROL_PROTOCOL + 1, version: '9.0.0' })).toBe(
      `the running daemon is nbwss 9.0.0 (control protocol ${CONTROL_PROTOCOL + 1}; this nbwss speaks ${CONTROL_PROTOCOL}): restart it to run this version (systemctl restart nbwss, or stop it and run nbwss daemon)`,
    );
    expect(protocolProblem({})).toMatch(/^the running daemon is an older nbwss \(an unversioned control protocol/);
  });
});
