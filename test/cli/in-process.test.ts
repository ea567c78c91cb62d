import { mkdirSync, readFileSync } from 'node:fs';
import type { PassThrough } from 'node:stream';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { statusView } from '../../src/cli/output/status-view.js';
import { details, detailsFile, newHome } from '../helpers/cli.js';
import { useTlsEndpoint } from '../helpers/fixtures.js';
import { injectedIO as io } from '../helpers/io.js';
import { jobNotification } from '../helpers/setup.js';
import { STATUS, STATUS_NOW } from '../helpers/status-fixture.js';

// status, notify and api in-process (main with injected IO), piped and at a terminal, exact output. What only a
// process shows (the real daemon's answers, signals, a real terminal) stays in the e2e suite.

const servers: Server[] = [];
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A daemon stand-in on the home's control socket: answers every request with `answer` (one JSON line). */
async function fakeDaemon(home: string, answer: unknown): Promise<string[]> {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const requests: string[] = [];
  const server = createServer((c) => {
    c.setEncoding('utf8');
    c.on('data', (d: string) => {
      requests.push(d.trim());
      c.end(`${JSON.stringify(answer)}\n`);
    });
  });
  await new Promise<void>((r) => server.listen(join(home, 'daemon.sock'), () => r()));
  servers.push(server);
  return requests;
}

describe('status in-process', () => {
  it('asks the daemon over the control protocol and prints its view: plain when piped, coloured at a colour terminal', async () => {
    const h = newHome();
    const requests = await fakeDaemon(h.dir, STATUS);
    // Only Date is fixed (relative times); timers and sockets stay real.
    vi.useFakeTimers({ toFake: ['Date'], now: STATUS_NOW });
    const piped = io(false);
    expect(await main(['status'], piped.streams, h.env)).toBe(0);
    expect(piped.out()).toBe(`${statusView(STATUS, { now: STATUS_NOW, color: false }).join('\n')}\n`);
    expect(piped.out()).toContain('● prod   cloud1.example (priority 1)  3h00m  3 (3 in flight)  1m15s   2m00s ago');
    expect(piped.err()).toBe('');
    expect(requests).toEqual(['{"cmd":"status"}']);
    const term = io(true, true);
    expect(await main(['status'], term.streams, h.env)).toBe(0);
    expect(term.out()).toBe(`${statusView(STATUS, { now: STATUS_NOW, color: true }).join('\n')}\n`);
    expect(term.out()).toContain('\x1b[31m✗\x1b[0m dr');
  });

  it('--json is the daemon’s answer with running: true; --check is the Nagios verdict and its exit code', async () => {
    const h = newHome();
    await fakeDaemon(h.dir, STATUS);
    const json = io(false);
    expect(await main(['status', '--json'], json.streams, h.env)).toBe(0);
    expect(JSON.parse(json.out())).toEqual({ running: true, ...STATUS });
    const check = io(false);
    expect(await main(['status', '--check'], check.streams, h.env)).toBe(2);
    expect(check.out()).toBe('NBWSS CRITICAL - not connected: group dr | groups=2 connected=1 pending=3 oldest_pending_age=75s;600\n');
  });

  it('a daemon of another control protocol is not read: the CLI says which and to restart it', async () => {
    const h = newHome();
    await fakeDaemon(h.dir, { ...STATUS, protocol: 99, version: '9.9.9' });
    const out = io(false);
    expect(await main(['status'], out.streams, h.env)).toBe(0);
    expect(out.out()).toBe(
      '! nbwss daemon: the running daemon is nbwss 9.9.9 (control protocol 99; this nbwss speaks 1): restart it to run this version ' +
        `(systemctl restart nbwss, or stop it and run nbwss daemon) · store ${h.dir}\n`,
    );
  });
});

describe('notify in-process', () => {
  const ep = useTlsEndpoint();

  it('queues what stdin holds for every group with an ACTIVATED endpoint and says so on stderr; --json on stdout', async () => {
    const h = newHome();
    const add = io(false);
    expect(await main(['add', '--file', detailsFile(details({ url: ep.server.url(), hostName: 'notify.test' })), '--yes'], add.streams, h.env)).toBe(0);
    const job = JSON.stringify(jobNotification(7));
    const piped = io(false);
    (piped.streams.stdin as PassThrough).end(`${job}\n${job.replace('"jobId":7', '"jobId":8')}\n`);
    expect(await main(['notify'], piped.streams, h.env)).toBe(0);
    expect(piped.out()).toBe('');
    expect(piped.err()).toBe('Queued 2 notifications for 1 server group (sg1).\n');
    const json = io(false);
    (json.streams.stdin as PassThrough).end(`${job}\n`);
    expect(await main(['notify', '--json'], json.streams, h.env)).toBe(0);
    expect(JSON.parse(json.out())).toEqual({ notifications: 1, queued: ['sg1'], refused: [] });
  });

  it('tells a running daemon what it queued and refused; the audit log has a line only for a refusal', async () => {
    const h = newHome();
    const requests = await fakeDaemon(h.dir, { ok: true });
    const add = io(false);
    expect(await main(['add', '--file', detailsFile(details({ url: ep.server.url(), hostName: 'notify.test' })), '--yes'], add.streams, h.env)).toBe(0);
    expect(await main(['config', 'set', 'notification.maxQueued', '2'], io(false).streams, h.env)).toBe(0);
    const audited = () =>
      readFileSync(join(h.dir, 'audit.log'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { command: string; outcome: string; detail?: string; error?: { code: string } })
        .filter((a) => a.command.startsWith('notify'));
    const send = async (lines: string) => {
      const run = io(false);
      (run.streams.stdin as PassThrough).end(lines);
      return main(['notify'], run.streams, h.env);
    };
    requests.length = 0;
    const job = (id: number) => `${JSON.stringify(jobNotification(id))}\n`;
    // Queued: the daemon hears what, for whom; no audit line (a notification is not a change of the configuration).
    expect(await send(job(1) + job(2))).toBe(0);
    expect(requests).toEqual(['{"cmd":"notify","count":2,"queued":["sg1"],"refused":[]}']);
    expect(audited()).toEqual([]);
    // Not valid: nothing queued, nothing told, no audit line.
    expect(await send('{"object":"JOB"}\n')).toBe(3);
    expect(requests).toHaveLength(1);
    expect(audited()).toEqual([]);
    // Refused (the group's outbox is full): the daemon hears of the refusal, and the audit log has the failed change.
    expect(await send(job(3))).toBe(8);
    expect(requests.at(-1)).toBe('{"cmd":"notify","count":1,"queued":[],"refused":[{"groupId":"sg1","pending":2}]}');
    expect(audited()).toEqual([expect.objectContaining({ command: 'notify', outcome: 'error', error: expect.objectContaining({ code: 'STORE' }) })]);
    expect(audited()[0]!.detail).toMatch(/refused for server group sg1 \(2 pending\)/);
  });

  it('at a terminal with nothing piped: a usage error that says how to give notifications, nothing queued', async () => {
    const h = newHome();
    const term = io(true);
    term.streams.stdinTTY = true;
    expect(await main(['notify'], term.streams, h.env)).toBe(2);
    expect(term.err()).toBe('Error: No notifications given: stdin is a terminal\nGive --file PATH, or pipe the notifications in: ... | nbwss notify\n');
  });
});

describe('api in-process', () => {
  it('api show: the base URL, its trust and limits as lines, or as JSON', async () => {
    const h = newHome();
    expect(await main(['config', 'set', 'api.baseUrl', 'https://primary.example:1556/netbackup'], io(false).streams, h.env)).toBe(0);
    const piped = io(false);
    expect(await main(['api', 'show'], piped.streams, h.env)).toBe(0);
    expect(piped.out()).toBe(
      [
        'base URL: https://primary.example:1556/netbackup',
        'trust:    none: set api.caFile or run nbwss api pin (COMMAND REQUESTs are answered 502 until then)',
        'timeout:  60000 ms',
        `max body: ${16 * 1024 * 1024} bytes`,
        '',
      ].join('\n'),
    );
    const json = io(false);
    expect(await main(['api', 'show', '--json'], json.streams, h.env)).toBe(0);
    expect(JSON.parse(json.out())).toEqual({
      baseUrl: 'https://primary.example:1556/netbackup',
      caFile: null,
      pin: null,
      timeoutMs: 60000,
      maxBodyBytes: 16 * 1024 * 1024,
    });
  });
});
