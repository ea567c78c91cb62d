import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BIN, runCli, spawnCli } from '../helpers/cli.js';
import { addEndpoint, connected, homeWith, jobNotification, useReferenceEndpoints } from '../helpers/setup.js';
import { startDaemon, stopAllDaemons } from '../helpers/daemon.js';
import { runInPty } from '../helpers/pty.js';
import { closedPort } from '../helpers/servers.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import { until } from '../helpers/wait.js';

const endpoint = useReferenceEndpoints();
const cleanups: (() => void)[] = [];
afterEach(async () => {
  await stopAllDaemons();
  for (const c of cleanups.splice(0)) c();
});
afterAll(cleanupTempDirs);

const home = homeWith;
const add = addEndpoint;
const job = (jobId: number) => JSON.stringify(jobNotification(jobId));

describe('Prometheus metrics (metrics.listen)', () => {
  it('counts resends and refusals: a message sent again (no acknowledgement) and notifications refused by a full outbox', async () => {
    const port = await closedPort();
    const ep = await endpoint({ ackNotifications: false });
    const h = home({ 'metrics.listen': `127.0.0.1:${port}`, 'notification.scheduledRate': 1, 'notification.maxQueued': 2 });
    await add(h, 'ep1.test', ep.url);
    const d = startDaemon(h.env);
    await d.waitFor((l) => l.msg === 'serving Prometheus metrics at /metrics');
    await d.waitFor(connected('ep1.test'));
    expect((await runCli(['notify'], h.env, `${job(1)}\n`)).code).toBe(0);
    await d.waitFor((l) => l.msg === 'notifications sent again (same id)');
    // The outbox holds 1 of 2: three more do not fit, and all three are refused.
    expect((await runCli(['notify'], h.env, `${job(2)}\n${job(3)}\n${job(4)}\n`)).code).toBe(8);
    await d.waitFor((l) => l.msg.startsWith('notifications refused for a group'));
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(text).toMatch(/^nbwss_notification_messages_resent_total\{group="sg1"\} [1-9]\d*$/m);
    expect(text).toContain('nbwss_notification_messages_sent_total{group="sg1"} 1');
    expect(text).toContain('nbwss_notifications_refused_total{group="sg1"} 3');
    expect(text).toContain('nbwss_notifications_accepted_total{group="sg1"} 1');
  });

  it('serves /metrics over HTTP: connections, groups, COMMAND, notifications, outbox, process; no secret; promtool accepts it', async () => {
    const port = await closedPort();
    const ep = await endpoint();
    const h = home({ 'metrics.listen': `127.0.0.1:${port}` });
    await add(h, 'ep1.test', ep.url);
    const d = startDaemon(h.env);
    await d.waitFor((l) => l.msg === 'serving Prometheus metrics at /metrics');
    await d.waitFor(connected('ep1.test'));
    // Before any notification: the outbox gauges have a series (0) for the group, not none.
    const before = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(before).toContain('nbwss_outbox_pending{group="sg1"} 0');
    expect(before).toContain('nbwss_outbox_oldest_pending_age_seconds{group="sg1"} 0');
    expect((await runCli(['notify'], h.env, `${job(1)}\n${job(2)}\n`)).code).toBe(0);
    await d.waitFor((l) => l.msg === 'notifications acknowledged');
    await ep.command({ uri: '/netbackup/admin/jobs?filter=secret-query', method: 'GET', headers: { Authorization: 'jwt-secret' } });
    await ep.command({ uri: '/etc/passwd', method: 'GET' });
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    for (const line of [
      'nbwss_connection_attempts_total 1',
      'nbwss_endpoints{state="ACTIVATED",connection_state="CONNECTED"} 1',
      'nbwss_group_connected{group="sg1"} 1',
      'nbwss_notifications_accepted_total{group="sg1"} 2',
      'nbwss_notification_messages_sent_total{group="sg1"} 1',
      'nbwss_notifications_acknowledged_total{group="sg1"} 2',
      'nbwss_outbox_pending{group="sg1"} 0',
      'nbwss_outbox_oldest_pending_age_seconds{group="sg1"} 0',
      'nbwss_commands_total{method="GET",code="502",nbwss_error="NBWSS_API_TLS"} 1',
      'nbwss_commands_total{method="GET",code="403",nbwss_error="NBWSS_URI_REFUSED"} 1',
      'nbwss_connect_duration_seconds_count 1',
      'nbwss_notification_ack_latency_seconds_count 1',
    ])
      expect(text).toContain(line);
    expect(text).toMatch(/^nbwss_certificate_expiry_timestamp_seconds\{host="ep1\.test",group="sg1"\} \d{10}$/m);
    for (const m of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_open_fds', 'nodejs_heap_used_bytes'])
      expect(text).toMatch(new RegExp(`^${m} \\d`, 'm'));
    expect(text).toMatch(/^nbwss_command_duration_seconds_bucket\{le="0\.001",method="GET"\} /m);
    for (const secret of ['good-token', 'secret-query', 'jwt-secret', ep.url]) expect(text).not.toContain(secret);
    // Prometheus's own checker, on what was scraped.
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(promtool.error, 'promtool (Debian package prometheus) is needed for this test; .ci/run installs it').toBeUndefined();
    expect(promtool.stdout + promtool.stderr).toBe('');
    expect(promtool.status).toBe(0);
    expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
    // A failed attempt is counted by reason.
    ep.setRejectToken(true);
    ep.closeClients();
    await d.waitFor((l) => l.msg === 'connection attempt failed' && l.reason === 'token rejected');
    expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toContain('nbwss_connection_failures_total{reason="token_rejected"}');
  });

  it('a notify nudge with a nonsensical count on the control socket neither crashes the daemon nor skews the counters', async () => {
    const port = await closedPort();
    const ep = await endpoint();
    const h = home({ 'metrics.listen': `127.0.0.1:${port}` });
    await add(h, 'ep1.test', ep.url);
    const d = startDaemon(h.env);
    await d.waitFor(connected('ep1.test'));
    const answer = await new Promise<string>((resolve) => {
      const c = connect(join(h.dir, 'daemon.sock'));
      let got = '';
      c.on('connect', () => c.write('{"cmd":"notify","count":-5,"queued":["sg1"],"refused":[{"groupId":"sg1","pending":1}]}\n'));
      c.on('data', (x) => (got += x));
      c.on('close', () => resolve(got));
    });
    expect(answer).toBe('{"ok":true}\n');
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(text).toContain('nbwss_notifications_accepted_total{group="sg1"} 0');
    expect((await runCli(['status', '--check'], h.env)).code).toBe(0); // still up and connected
  });

  it('off by default; metrics.listen set on a running daemon starts it (SIGHUP or config set)', async () => {
    const port = await closedPort();
    const ep = await endpoint();
    const h = home();
    await add(h, 'ep1.test', ep.url);
    const d = startDaemon(h.env);
    await d.waitFor(connected('ep1.test'));
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
    expect((await runCli(['config', 'set', 'metrics.listen', `127.0.0.1:${port}`], h.env)).code).toBe(0);
    await d.waitFor((l) => l.msg === 'serving Prometheus metrics at /metrics');
    expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toContain('nbwss_group_connected{group="sg1"} 1');
    const bad = await runCli(['config', 'set', 'metrics.listen', 'everywhere'], h.env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('metrics.listen must be HOST:PORT (e.g. 127.0.0.1:9477), or empty for off');
  });
});

describe('nbwss status --check (Nagios plugin exit codes)', () => {
  it('CRITICAL without a daemon; OK when every group is connected; CRITICAL naming a group without a connection', async () => {
    const ep = await endpoint();
    const h = home();
    await add(h, 'ep1.test', ep.url, { groupId: 'sg1' });
    const none = await runCli(['status', '--check'], h.env);
    expect(none).toMatchObject({ code: 2, stdout: 'NBWSS CRITICAL - the daemon is not running\n' });
    const d = startDaemon(h.env);
    await d.waitFor(connected('ep1.test'));
    const ok = await runCli(['status', '--check'], h.env);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('NBWSS OK - 1 group connected, 0 pending | groups=1 connected=1 pending=0 oldest_pending_age=0s;600\n');
    const ep2 = await endpoint();
    await add(h, 'dead.test', ep2.url, { groupId: 'sg2' });
    await d.waitFor(connected('dead.test'));
    await ep2.close(); // group sg2's only endpoint goes away
    await d.waitFor((l) => l.msg === 'connection attempt failed' && l.host === 'dead.test');
    const crit = await runCli(['status', '--check'], h.env);
    expect(crit.code).toBe(2);
    expect(crit.stdout).toMatch(/^NBWSS CRITICAL - not connected: group sg2 \| groups=2 connected=1 /);
  });

  it('WARNING when a notification waits longer than --max-pending-age', async () => {
    const ep = await endpoint({ ackNotifications: false });
    const h = home({ 'notification.scheduledRate': 60 });
    await add(h, 'ep1.test', ep.url);
    const d = startDaemon(h.env);
    await d.waitFor(connected('ep1.test'));
    expect((await runCli(['notify'], h.env, job(1))).code).toBe(0);
    await ep.waitForMessage((m) => m.type === 'NOTIFICATION');
    // The age is whole seconds: it passes 0 within about a second.
    let r = await runCli(['status', '--check', '--max-pending-age', '0'], h.env);
    for (let i = 0; i < 30 && r.code === 0; i++) r = await runCli(['status', '--check', '--max-pending-age', '0'], h.env);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^NBWSS WARNING - notifications pending longer than 0s: group sg1 \| groups=1 connected=1 pending=1 oldest_pending_age=\d+s;0$/m);
    expect((await runCli(['status', '--check', '--max-pending-age', 'soon'], h.env)).code).toBe(2);
  });

  it('UNKNOWN when something holds the daemon socket but does not answer', async () => {
    const h = home();
    const sock = join(h.dir, 'daemon.sock');
    const server = createServer(() => {}); // accepts, never answers
    await new Promise<void>((r) => server.listen(sock, () => r()));
    cleanups.push(() => server.close());
    const r = await runCli(['status', '--check'], h.env);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('NBWSS UNKNOWN - the daemon socket does not answer (a hung daemon?)\n');
  });
});

describe('nbwss status --watch', () => {
  it('piped with --json: one JSON object per change, pushed through a connect, a failover and a notification', async () => {
    const ep1 = await endpoint();
    const ep2 = await endpoint();
    const h = home();
    await add(h, 'ep1.test', ep1.url, { priority: 1 });
    await add(h, 'ep2.test', ep2.url, { priority: 2 });
    const d = startDaemon(h.env);
    await d.waitFor(connected('ep1.test'));
    const w = spawnCli(['status', '--watch', '--json'], h.env);
    cleanups.push(() => w.kill('SIGKILL'));
    const seen: { groups: { connected: string | null; notifications: { acknowledged: number } }[] }[] = [];
    const waiters = new Set<() => void>();
    createInterface({ input: w.stdout! }).on('line', (l) => {
      seen.push(JSON.parse(l));
      for (const x of [...waiters]) x();
    });
    const until = (pred: (s: (typeof seen)[number]) => boolean) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not seen: ${JSON.stringify(seen.at(-1))}`)), 15_000);
        const x = () => {
          if (!seen.some(pred)) return;
          clearTimeout(timer);
          waiters.delete(x);
          resolve();
        };
        waiters.add(x);
        x();
      });
    await until((s) => s.groups[0]?.connected === 'ep1.test');
    await ep1.close();
    await until((s) => s.groups[0]?.connected === 'ep2.test');
    expect((await runCli(['notify'], h.env, job(1))).code).toBe(0);
    await until((s) => s.groups[0]?.notifications.acknowledged === 1);
    expect(seen[0]).toMatchObject({ running: true, pid: d.child.pid });
    // The daemon stops: the watch ends by itself, exit 0.
    const ended = new Promise<number | null>((r) => w.on('close', (code) => r(code)));
    await d.stop();
    expect(await ended).toBe(0);
  });

  const hasTmux = spawnSync('sh', ['-c', 'command -v tmux']).status === 0;
  if (!hasTmux && process.env.CI === 'true') throw new Error('tmux is not installed (CI=true: .ci/run installs it)');
  it.skipIf(!hasTmux)(
    'leaves the terminal exactly as it was: after q, tmux’s screen holds the user’s lines and nothing of the view',
    async () => {
      const ep = await endpoint();
      const h = home();
      await add(h, 'ep1.test', ep.url);
      const d = startDaemon(h.env);
      await d.waitFor(connected('ep1.test'));
      // A terminal of its own (a private tmux server), 120×40, a plain shell in it.
      const sock = join(tempDir('nbwss-tmux-'), 'tmux.sock');
      const tmux = (...args: string[]) =>
        spawnSync('tmux', ['-S', sock, ...args], { encoding: 'utf8', env: { ...h.env, PATH: process.env.PATH, TERM: 'xterm' } });
      cleanups.push(() => void tmux('kill-server'));
      expect(tmux('new-session', '-d', '-x', '120', '-y', '40', 'bash --norc --noprofile').status).toBe(0);
      const screen = () => tmux('capture-pane', '-p').stdout;
      const shows = (text: string) => until(() => screen().includes(text), 20_000, `the terminal shows ${text}`);
      tmux('send-keys', 'echo user-line-1; echo user-line-2', 'Enter');
      await shows('user-line-2');
      tmux('send-keys', `${process.execPath} ${BIN} status --watch`, 'Enter');
      await shows('nbwss daemon: running');
      tmux('send-keys', 'q');
      await until(() => !screen().includes('q or Ctrl-C to leave'), 20_000, 'the view gone');
      tmux('send-keys', 'echo after-the-watch', 'Enter');
      await shows('after-the-watch');
      const after = screen();
      expect(after).toContain('user-line-1');
      expect(after).toContain('user-line-2');
      expect(after).toContain('status --watch');
      // Not a line of the view is left on the user's screen (the alternate screen was entered before the first frame).
      expect(after).not.toContain('nbwss daemon: running');
      expect(after).not.toContain('GROUP');
    },
    60_000,
  );

  it('at a terminal: redrawn in place as things change; q leaves and restores the terminal', async () => {
    const ep1 = await endpoint();
    const ep2 = await endpoint();
    const h = home();
    await add(h, 'ep1.test', ep1.url, { priority: 1 });
    await add(h, 'ep2.test', ep2.url, { priority: 2 });
    const d = startDaemon(h.env);
    await d.waitFor(connected('ep1.test'));
    const s = runInPty(['status', '--watch'], h.env);
    await s.waitFor(/sg1 +ep1\.test \(priority 1\) +\d+s +0 /);
    await ep1.close();
    await s.waitFor(/sg1 +ep2\.test \(priority 2\) +\d+s +0 /);
    await s.waitFor(/group sg1: ep1\.test \(priority 1\) is down: /);
    expect((await runCli(['notify'], h.env, job(1))).code).toBe(0);
    await s.waitFor(/sg1 +ep2\.test \(priority 2\) +\d+s +0 +- +\d+s ago/); // acknowledged: nothing pending, a last ack
    s.type('q');
    const r = await s.done;
    expect(r.code).toBe(0);
    // The alternate screen is entered before the first frame and left at the end: nothing of the view on the user's screen.
    expect(r.output.indexOf('\x1b[?1049h')).toBeGreaterThanOrEqual(0);
    expect(r.output.indexOf('\x1b[?1049h')).toBeLessThan(r.output.indexOf('nbwss daemon: running'));
    expect(r.output.lastIndexOf('\x1b[?1049l')).toBeGreaterThan(r.output.lastIndexOf('nbwss daemon: running'));
    expect(r.output).toContain('\x1b[?25h'); // the cursor shown again
  });
});

describe('a daemon of another version on the socket', () => {
  it('its answer is not misread: status, --json and --check say which daemon runs and to restart it', async () => {
    const h = home();
    // A daemon from before the control protocol was versioned: its status has no protocol field.
    const server = createServer((c) =>
      c.on('data', () =>
        c.end(`${JSON.stringify({ ok: true, pid: 4242, startedAt: '', uptimeSeconds: 1, secretStore: 'file', properties: {}, groups: [] })}\n`),
      ),
    );
    await new Promise<void>((r) => server.listen(join(h.dir, 'daemon.sock'), r));
    cleanups.push(() => server.close());
    const text = await runCli(['status'], h.env);
    expect(text.stdout).toContain('nbwss daemon: the running daemon is an older nbwss (an unversioned control protocol; this nbwss speaks 1): restart it');
    const json = JSON.parse((await runCli(['status', '--json'], h.env)).stdout);
    expect(json).toMatchObject({ running: true, answering: false, why: expect.stringContaining('restart it') });
    const check = await runCli(['status', '--check'], h.env);
    expect(check.code).toBe(3);
    expect(check.stdout).toMatch(/^NBWSS UNKNOWN - the running daemon is an older nbwss/);
  });
});

describe('the daemon at a terminal', () => {
  it('says one line when it starts (version, pid, groups, store, its log) and one when Ctrl-C stops it; daemon.pid holds the pid alone; --log-stderr there is text', async () => {
    const ep = await endpoint();
    const h = home();
    await add(h, 'ep1.test', ep.url);
    const d = runInPty(['daemon'], h.env);
    await d.waitFor(/nbwss daemon \S+ running \(pid (\d+)\): 1 server group of .*; log: .*nbwss\.log; Ctrl-C stops it/);
    await until(() => existsSync(join(h.dir, 'daemon.pid')), 10_000, 'the pid file');
    expect(readFileSync(join(h.dir, 'daemon.pid'), 'utf8')).toMatch(/^\d+\n$/);
    d.type('\x03');
    // Ctrl-C reaches the whole foreground group, script(1)'s shell too (its exit code is the shell's 130): the daemon's word is what counts.
    const r = await d.done;
    expect(r.output).toContain('nbwss daemon stopped');
    expect(r.output).not.toMatch(/Error|\n\s+at /);
    // The log file stays JSON (what tools read) by default; at a terminal --log-stderr is text.
    expect(JSON.parse(readFileSync(join(h.dir, 'logs', 'nbwss.log'), 'utf8').split('\n')[0]!)).toHaveProperty('level');
    const t = runInPty(['daemon', '--log-stderr'], h.env);
    await t.waitFor(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ INFO {2}connected host=ep1\.test group=sg1/);
    t.type('\x03');
    expect((await t.done).output).toMatch(/INFO {2}stopped/);
  }, 60_000);
});

describe('logs', () => {
  it('SIGUSR1 reopens the log file after logrotate moved it; the new file is 0600 and gets the new lines', async () => {
    const ep = await endpoint();
    const h = home();
    await add(h, 'ep1.test', ep.url);
    const d = startDaemon(h.env);
    await d.waitFor(connected('ep1.test'));
    const log = join(h.dir, 'logs', 'nbwss.log');
    renameSync(log, `${log}.1`);
    const from = d.mark();
    d.child.kill('SIGUSR1');
    await d.waitFor((l) => l.msg === 'log file reopened', 10_000, from);
    expect((await runCli(['config', 'set', 'connectionInfo.period', '30'], h.env)).code).toBe(0);
    await d.waitFor((l) => l.msg === 'reconciled', 10_000, from);
    await d.stop();
    const fresh = readFileSync(log, 'utf8');
    expect(fresh).toContain('"msg":"log file reopened"');
    expect(fresh).toContain('"msg":"nudged by the CLI: re-reading properties and reconciling"');
    expect(fresh).not.toContain('"msg":"connected"');
    expect(readFileSync(`${log}.1`, 'utf8')).toContain('"msg":"connected"');
    expect(statSync(log).mode & 0o777).toBe(0o600);
  });

  it('contrib/logrotate.d/nbwss, run by the real logrotate, rotates under a running daemon and the daemon writes on in the new file', async () => {
    const ep = await endpoint();
    const h = home();
    await add(h, 'ep1.test', ep.url);
    const d = startDaemon(h.env);
    await d.waitFor(connected('ep1.test'));
    // The shipped file, pointed at this store instead of /var/lib/nbwss.
    const conf = join(h.dir, 'logrotate.conf');
    writeFileSync(conf, readFileSync(new URL('../../contrib/logrotate.d/nbwss', import.meta.url), 'utf8').replaceAll('/var/lib/nbwss', h.dir), { mode: 0o644 });
    const from = d.mark();
    const r = spawnSync('logrotate', ['--force', '--state', join(h.dir, 'logrotate.state'), conf], { encoding: 'utf8' });
    expect(r.error, 'logrotate (Debian package logrotate) is needed for this test; .ci/run installs it').toBeUndefined();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    await d.waitFor((l) => l.msg === 'log file reopened', 10_000, from);
    await d.stop();
    const log = join(h.dir, 'logs', 'nbwss.log');
    expect(readFileSync(`${log}.1`, 'utf8')).toContain('"msg":"connected"');
    const fresh = readFileSync(log, 'utf8');
    expect(fresh).toContain('"msg":"log file reopened"');
    expect(fresh).toContain('"msg":"stopped"');
    expect(statSync(log).mode & 0o777).toBe(0o600);
  });

  it('under systemd (JOURNAL_STREAM names stderr) the daemon logs to stderr only, no file of its own', async () => {
    const ep = await endpoint();
    const h = home();
    await add(h, 'ep1.test', ep.url);
    const errPath = join(h.dir, 'journal.txt');
    const fd = openSync(errPath, 'w');
    const st = fstatSync(fd);
    const { spawn } = await import('node:child_process');
    const { BIN } = await import('../helpers/cli.js');
    const child = spawn(process.execPath, [BIN, 'daemon'], { env: { ...h.env, JOURNAL_STREAM: `${st.dev}:${st.ino}` }, stdio: ['ignore', 'ignore', fd] });
    closeSync(fd);
    cleanups.push(() => child.kill('SIGKILL'));
    // Up and connected, as nbwss status tells.
    const isConnected = async () => JSON.parse((await runCli(['status', '--json'], h.env)).stdout).groups?.[0]?.connected === 'ep1.test';
    for (let i = 0; i < 50 && !(await isConnected()); i++) await ep.waitForMessage((m) => m.type === 'CONNECT', 200).catch(() => {});
    const exited = new Promise((r) => child.on('close', r));
    child.kill('SIGTERM');
    await exited;
    expect(readFileSync(errPath, 'utf8')).toContain('"msg":"connected"');
    expect(existsSync(join(h.dir, 'logs', 'nbwss.log'))).toBe(false);
  });

  it('a SIGTERM at the first log line (while the daemon is still starting) stops it gracefully, exit 0', async () => {
    const ep = await endpoint();
    const h = home();
    await add(h, 'ep1.test', ep.url);
    const d = startDaemon(h.env);
    await d.waitFor(() => true); // the very first line
    expect(await d.stop('SIGTERM')).toMatchObject({ code: 0, signal: null });
    expect(readFileSync(join(h.dir, 'logs', 'nbwss.log'), 'utf8')).toContain('"msg":"stopped"');
  });

  it('log.level=warn: info lines are left out, warnings kept', async () => {
    const ep = await endpoint();
    const h = home({ 'log.level': 'warn' });
    await add(h, 'ep1.test', ep.url);
    const d = startDaemon(h.env);
    await d.waitFor((l) => l.msg.startsWith('COMMAND REQUESTs will be answered 502'));
    await d.stop();
    const text = readFileSync(join(h.dir, 'logs', 'nbwss.log'), 'utf8');
    expect(text).toContain('COMMAND REQUESTs will be answered 502');
    expect(text).not.toContain('"msg":"NBWSS daemon started"');
    expect(text).not.toContain('"level":30');
  });
});
