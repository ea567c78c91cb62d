import { existsSync, readFileSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { GUIDE_PARENT_START, guideScenario, runScenario } from '../../src/reference-endpoint/scenario.js';
import { runCli } from '../helpers/cli.js';
import { type DaemonProcess, startDaemon, stopAllDaemons } from '../helpers/daemon.js';
import { addEndpoint, connected, homeWith, useReferenceEndpoints } from '../helpers/setup.js';
import { closedPort } from '../helpers/servers.js';
import { storeBytes } from '../helpers/store.js';
import { cleanupTempDirs } from '../helpers/tmp.js';
import { API_KEY, jobAt, jobStates, morePolls, pollingHome, usePrimaries } from '../helpers/primary.js';

const endpoint = useReferenceEndpoints();
const primary = usePrimaries();
afterEach(stopAllDaemons);
afterAll(cleanupTempDirs);

const GUIDE: { name: string; payload: { object: string; data: Record<string, unknown>[] }[] }[] = JSON.parse(
  readFileSync(new URL('../fixtures/guide/notifications.json', import.meta.url), 'utf8'),
);

/** A daemon polling the jobs of a stand-in primary (images off), connected to one endpoint, its first poll done. */
async function pollingJobs() {
  const ep = await endpoint();
  const p = await primary();
  const h = await pollingHome(p, ep.url, { 'api.poll.images': false });
  const d = startDaemon(h.env);
  await d.waitFor(connected('ep1.test'));
  await d.waitFor((l) => l.msg.startsWith('job polling starts'));
  return { ep, p, h, d };
}

const started = (d: DaemonProcess) =>
  Promise.all([d.waitFor((l) => l.msg.startsWith('job polling starts')), d.waitFor((l) => l.msg.startsWith('image polling starts'))]);

/** The guide's example payload with its times moved as the scenario moved them. */
function shifted(name: string, shift: number) {
  const ex = GUIDE.find((g) => g.name === name)!;
  return ex.payload.flatMap((el) =>
    el.data.map((d) => {
      const out: Record<string, unknown> = { ...d };
      for (const f of ['startTime', 'backupTime']) if (typeof out[f] === 'number') out[f] = (out[f] as number) + shift;
      if (typeof out.backupId === 'string') out.backupId = out.backupId.replace(/_(\d+)$/, (_m, t) => `_${Number(t) + shift}`);
      if ('createdTime' in out) out.createdTime = '(observed)';
      return { object: el.object, data: out };
    }),
  );
}

describe('polling NetBackup: the guide backup, restore and image deletion', () => {
  it('each step of the scenario arrives once, in the guide shapes and order, with the times of the primary', async () => {
    const ep = await endpoint();
    const p = await primary();
    const s = guideScenario();
    s.prepare(p); // the image example D updates exists before the backup
    const h = await pollingHome(p, ep.url);
    const d = startDaemon(h.env);
    await d.waitFor(connected('ep1.test'));
    await started(d);
    const t0 = Math.floor(Date.now() / 1000);
    let seen = 0;
    await runScenario(p, s, async (step) => {
      const want = shifted(step.name, s.shift);
      const got = await ep.waitForNotifications(seen + want.length, 15_000);
      const mine = got.slice(seen, seen + want.length).map((n) => ({
        object: n.object,
        data: 'createdTime' in n.data ? { ...n.data, createdTime: '(observed)' } : n.data,
      }));
      // Field for field and in the guide's field order: compared as JSON text.
      expect(JSON.stringify(mine), step.name).toBe(JSON.stringify(want));
      for (const n of got.slice(seen)) if ('createdTime' in n.data) expect(Math.abs((n.data.createdTime as number) - t0)).toBeLessThan(120);
      seen += want.length;
    });
    // Once: three more polls of each source bring nothing new.
    await morePolls(p, 3, ['jobs', 'images']);
    expect(ep.notifications()).toHaveLength(seen);
    const st = JSON.parse((await runCli(['status', '--json'], h.env)).stdout);
    const jobs = st.polling.find((x: { source: string }) => x.source === 'jobs');
    expect(jobs).toMatchObject({ enabled: true, lastError: null, events: 7, paused: null });
    expect(st.polling.find((x: { source: string }) => x.source === 'images')).toMatchObject({ enabled: true, events: 3 });
    // Every call carried the key. The version was negotiated once, by api key set's check: one request without a
    // version (as Veritas's Ansible roles send them), answered in the newest version NetBackup 11.0 serves (13.0, its
    // OpenAPI bundle's), remembered in the store; every call since, the daemon's included, asked for 13.0.
    for (const r of p.requests) expect(r.headers.authorization).toBe(API_KEY);
    const unversioned = p.requests.filter((r) => r.headers.accept === undefined);
    expect(unversioned).toHaveLength(1);
    expect(unversioned[0]!.headers['content-type']).toBe('application/json');
    for (const r of p.requests.slice(p.requests.indexOf(unversioned[0]!) + 1)) expect(r.headers.accept).toBe('application/vnd.netbackup+json;version=13.0');
    // The scenario is anchored at now, not at the guide's 2016.
    expect(GUIDE_PARENT_START + s.shift).toBeGreaterThanOrEqual(t0 - 120);
  });
});

describe('polling NetBackup: job transitions', () => {
  it('QUEUED → ACTIVE → (retry) → ACTIVE → DONE gives QUEUED, ACTIVE, DONE once each; the API words become the guide words', async () => {
    const { ep, p } = await pollingJobs();
    const steps: [string, number][] = [
      ['QUEUED', 1],
      ['ACTIVE', 2],
      ['WAITING_FOR_RETRY', 2],
      ['ACTIVE', 2],
      ['DONE', 3],
    ];
    for (const [state, expected] of steps) {
      p.setJob(jobAt(501, state, state === 'DONE' ? { status: 58 } : {}));
      await morePolls(p, 1);
      await morePolls(p, 1); // a whole poll after the change: what it brought is queued and sent
      await ep.waitForNotifications(expected);
      expect(jobStates(ep), state).toEqual(['501:QUEUED', '501:ACTIVE', '501:DONE'].slice(0, expected));
    }
    const done = ep.notifications().at(-1)!.data;
    // A failed job is notified DONE like any other, its status as NetBackup gave it; Standard → STANDARD, INCR → ST_INCR, no parent → itself.
    expect(done).toMatchObject({ state: 'DONE', status: 58, policyType: 'STANDARD', scheduleType: 'ST_INCR', parentJobId: 501, jobId: 501 });
    expect(Object.keys(done)).toEqual([
      'scheduleType',
      'clientName',
      'status',
      'startTime',
      'state',
      'policyName',
      'parentJobId',
      'jobId',
      'policyType',
      'jobType',
    ]);
    // Changed again after DONE (NetBackup touches finished jobs): never notified again.
    p.setJob({ jobId: 501, kilobytesTransferred: 99 });
    await morePolls(p, 2);
    expect(jobStates(ep)).toEqual(['501:QUEUED', '501:ACTIVE', '501:DONE']);
  });

  it("a job that changes twice within one second (NetBackup's times have whole seconds) is notified both times", async () => {
    const { ep, p } = await pollingJobs();
    const second = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();
    p.setJob({ ...jobAt(700, 'ACTIVE'), lastUpdateTime: second });
    await ep.waitForNotifications(1);
    // Done in the same second as its last update: the cursor sits on that second with this job's id.
    p.setJob({ jobId: 700, state: 'DONE', lastUpdateTime: second });
    await ep.waitForNotifications(2);
    expect(jobStates(ep)).toEqual(['700:ACTIVE', '700:DONE']);
  });

  it('more jobs than one page (250 at once, pages of 100): each notified exactly once, in update order', async () => {
    const { ep, p } = await pollingJobs();
    for (let i = 1; i <= 250; i++) p.setJob(jobAt(1000 + i, 'DONE'));
    await ep.waitForNotifications(250, 20_000);
    await morePolls(p, 2);
    const ids = ep.notifications().map((n) => n.data.jobId);
    expect(ids).toEqual(Array.from({ length: 250 }, (_, i) => 1001 + i));
    // Read in pages of 100 with the cursor the primary hands out (NetBackup 11.0 pages /admin/jobs by page[after]): the
    // 250 changed jobs came in three pages of one range, the second and third asked for after the cursor of the one before.
    const listings = p.requests.map((r) => new URL(r.url, 'https://x').searchParams).filter((q) => q.has('filter'));
    const after = listings.filter((q) => q.has('page[after]'));
    expect(after.length).toBeGreaterThanOrEqual(2);
    expect(listings.filter((q) => q.has('page[offset]'))).toEqual([]);
    expect(after.every((q) => q.get('page[limit]') === '100')).toBe(true);
  });

  it('the daemon down during a backup: what changed meanwhile is notified after the restart, nothing twice (kill -9 included)', async () => {
    const ep = await endpoint();
    const p = await primary();
    const h = await pollingHome(p, ep.url, { 'api.poll.images': false });
    let d = startDaemon(h.env);
    await d.waitFor(connected('ep1.test'));
    await d.waitFor((l) => l.msg.startsWith('job polling starts'));
    p.setJob(jobAt(144, 'ACTIVE'));
    p.setJob(jobAt(145, 'ACTIVE', { parentJobId: 144 }));
    await ep.waitForNotifications(2);
    // Acknowledged (an unacknowledged message would be resent after the restart, with its id: delivery's business, not polling's).
    let acked = 0;
    await d.waitFor((l) => {
      if (l.msg === 'notifications acknowledged') acked += l.count as number;
      return acked >= 2;
    });
    await d.stop('SIGKILL');
    // While no daemon runs: one job finishes, one starts and finishes, the parent is still running.
    p.setJob(jobAt(145, 'DONE', { parentJobId: 144 }));
    p.setJob(jobAt(146, 'QUEUED', { parentJobId: 144 }));
    p.setJob(jobAt(146, 'DONE', { parentJobId: 144 }));
    d = startDaemon(h.env);
    await d.waitFor(connected('ep1.test'));
    await ep.waitForNotifications(4);
    await morePolls(p, 3);
    p.setJob(jobAt(144, 'DONE'));
    await ep.waitForNotifications(5);
    await morePolls(p, 2);
    // 146 is seen only as DONE: polling cannot see a state that came and went between two polls.
    expect(jobStates(ep)).toEqual(['144:ACTIVE', '145:ACTIVE', '145:DONE', '146:DONE', '144:DONE']);
  });
});

describe('polling NetBackup: credentials', () => {
  it('a revoked API key: status names the error and the fix, the source waits (no retry storm), a new key resumes it', async () => {
    const ep = await endpoint();
    const p = await primary({ auth: { apiKeys: [API_KEY, 'second-key-abcdef'] } });
    const port = await closedPort();
    const h = await pollingHome(p, ep.url, { 'api.poll.images': false, 'metrics.listen': `127.0.0.1:${port}` });
    const d = startDaemon(h.env);
    await d.waitFor(connected('ep1.test'));
    await d.waitFor((l) => l.msg.startsWith('job polling starts'));
    p.revokeApiKey(API_KEY);
    await d.waitFor((l) => l.msg === 'polling paused until the REST API credentials change');
    const rejected = p.requests.length;
    const st = JSON.parse((await runCli(['status', '--json'], h.env)).stdout);
    const jobs = st.polling.find((x: { source: string }) => x.source === 'jobs');
    expect(jobs.lastError).toContain('refused the API key (401)');
    expect(jobs.paused).toContain('401');
    // The next try is a quarter of an hour away, not the next scheduledRate (1 s).
    expect(jobs.nextPollInSeconds).toBeGreaterThan(800);
    const text = (await runCli(['status'], h.env)).stdout;
    expect(text).toContain('PAUSED until the credentials change');
    expect(text).toContain('Set a valid API key with: nbwss api key set < key.txt');
    const check = await runCli(['status', '--check'], h.env);
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/^NBWSS WARNING - polling jobs fails: .*401/);
    expect(p.requests.length).toBe(rejected + 0);
    // A new key: the CLI nudges the daemon, polling resumes at once.
    const k = await runCli(['api', 'key', 'set'], h.env, 'second-key-abcdef\n');
    expect(k.code, k.stderr).toBe(0);
    await d.waitFor((l) => l.msg === 'polling works again');
    p.setJob(jobAt(7, 'DONE'));
    await ep.waitForNotifications(1);
    expect(p.requests.at(-1)!.headers.authorization).toBe('second-key-abcdef');
    // The metrics tell the same story: one rejected poll, good ones since, one notification found.
    const scraped = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(scraped).toMatch(/^nbwss_api_polls_total\{source="jobs",outcome="rejected"\} 1$/m);
    expect(scraped).toMatch(/^nbwss_api_polls_total\{source="jobs",outcome="ok"\} [1-9]\d*$/m);
    expect(scraped).toMatch(/^nbwss_api_poll_notifications_total\{source="jobs"\} 1$/m);
    expect(scraped).toMatch(/^nbwss_api_poll_last_success_timestamp_seconds\{source="jobs"\} 1\d{9}/m);
  });

  it('a token the primary forgot (web service restarted): one 401, one new login, polling goes on without an error', async () => {
    const ep = await endpoint();
    const p = await primary({ auth: { users: [{ userName: 'poller', password: 'pw-1' }], tokenValiditySeconds: 3600 } });
    const h = homeWith({ 'api.baseUrl': p.baseUrl, 'notification.scheduledRate': 1, 'api.poll.jobs': true });
    expect((await runCli(['api', 'pin', '--fingerprint', p.fingerprint], h.env)).code).toBe(0);
    expect((await runCli(['api', 'login', '--user', 'poller'], h.env, 'pw-1\n')).code).toBe(0);
    await addEndpoint(h, 'ep1.test', ep.url);
    const d = startDaemon(h.env);
    await d.waitFor(connected('ep1.test'));
    await morePolls(p, 2);
    expect(p.logins).toBe(2); // api login's check, the daemon's login
    p.forgetTokens();
    p.setJob(jobAt(10, 'DONE'));
    await ep.waitForNotifications(1);
    expect(p.logins).toBe(3);
    const st = JSON.parse((await runCli(['status', '--json'], h.env)).stdout);
    expect(st.polling.find((x: { source: string }) => x.source === 'jobs')).toMatchObject({ lastError: null, paused: null });
    expect(d.lines.some((l) => l.msg === 'poll failed')).toBe(false);
  });

  it('nbwss api login: the daemon logs in and renews the token before it expires', async () => {
    const ep = await endpoint();
    const p = await primary({ auth: { users: [{ userName: 'poller', password: 'pw-1' }], tokenValiditySeconds: 2 } });
    const h = homeWith({ 'api.baseUrl': p.baseUrl, 'notification.scheduledRate': 1, 'api.poll.jobs': true });
    expect((await runCli(['api', 'pin', '--fingerprint', p.fingerprint], h.env)).code).toBe(0);
    const wrong = await runCli(['api', 'login', '--user', 'poller'], h.env, 'not-it\n');
    expect(wrong.code).toBe(9);
    expect(wrong.stderr).toContain("NetBackup's REST API refused the user poller (401)");
    const ok = await runCli(['api', 'login', '--user', 'poller'], h.env, 'pw-1\n');
    expect(ok.code, ok.stderr).toBe(0);
    await addEndpoint(h, 'ep1.test', ep.url);
    const d = startDaemon(h.env);
    await d.waitFor(connected('ep1.test'));
    await d.waitFor((l) => l.msg.startsWith('job polling starts'));
    const first = p.logins;
    // Validity 2 s, renewed at 80 %: within a few polls nbwss has logged in again, and no call was refused.
    await morePolls(p, 4);
    expect(p.logins).toBeGreaterThan(first);
    // NetBackup 11.0 (API 13.0) takes the JWT as `Bearer <jwt>`, as Veritas's own Ansible roles for 10.5–11.1 send it.
    const jwtCalls = p.requests.filter((r) => r.url.startsWith('/netbackup/admin/jobs'));
    expect(jwtCalls.every((r) => r.headers.authorization?.startsWith('Bearer eyJ'))).toBe(true);
    p.setJob(jobAt(9, 'DONE'));
    await ep.waitForNotifications(1);

    // The password is never in the store or the log.
    expect(storeBytes(h).includes('pw-1')).toBe(false);
    expect(d.lines.map((l) => JSON.stringify(l)).join('\n')).not.toContain('pw-1');
  });

  it('api key set: refused by the primary → exit 9, nothing stored; on the command line → usage error; api test says what works', async () => {
    const p = await primary();
    const h = homeWith({ 'api.baseUrl': p.baseUrl });
    const noTrust = await runCli(['api', 'test'], h.env);
    expect(noTrust.code).toBe(4);
    expect(noTrust.stdout).toContain("FAIL certificate  the REST service's certificate is not trusted yet");
    expect((await runCli(['api', 'pin', '--fingerprint', p.fingerprint], h.env)).code).toBe(0);
    const none = await runCli(['api', 'test'], h.env);
    expect(none.code).toBe(9);
    expect(none.stdout).toContain('FAIL credentials  none: set an API key with nbwss api key set < key.txt');
    const argv = await runCli(['api', 'key', 'set', API_KEY], h.env, '');
    expect(argv.code).toBe(2);
    expect(argv.stderr).toContain('never from the command line');
    expect(argv.stderr).not.toContain(API_KEY);
    const bad = await runCli(['api', 'key', 'set'], h.env, 'wrong-key\n');
    expect(bad.code).toBe(9);
    expect(bad.stderr).toContain("NetBackup's REST API refused the API key (401)");
    expect((await runCli(['api', 'test'], h.env)).code).toBe(9); // still none stored
    const good = await runCli(['api', 'key', 'set'], h.env, `${API_KEY}\n`);
    expect(good.code, good.stderr).toBe(0);
    const t = await runCli(['api', 'test', '--json'], h.env);
    expect(t.code, t.stderr).toBe(0);
    expect(JSON.parse(t.stdout)).toMatchObject({
      auth: 'API key',
      failure: null,
      checks: [
        { name: 'certificate', ok: true },
        { name: 'credentials', ok: true },
        { name: 'version', ok: true, detail: 'API 13.0 (auto: the newest the primary serves)' },
        { name: 'jobs', ok: true },
        { name: 'images', ok: true },
      ],
      version: '13.0',
    });
    expect(t.stdout).not.toContain(API_KEY);
    // The key is in the secret store, not in the store, and doctor does not call it an orphan token.
    expect(storeBytes(h).includes(API_KEY)).toBe(false);
    const doc = await runCli(['doctor', '--json'], h.env);
    expect(doc.stdout).not.toContain('@api-key');
    const out = await runCli(['api', 'logout'], h.env);
    expect(out.stderr).toContain('Forgot the API key.');
    expect((await runCli(['api', 'test'], h.env)).code).toBe(9);
  });
});

describe('npm run primary', () => {
  it('starts the stand-in primary: it prints api.baseUrl and the fingerprint, writes an API key file; nbwss api test passes against it', async () => {
    const { spawn } = await import('node:child_process');
    const h = homeWith();
    const keyFile = `${h.dir}-apikey.txt`;
    const script = new URL('../../scripts/primary.mjs', import.meta.url).pathname;
    const child = spawn(process.execPath, [script, '--port', '0', '--api-key-file', keyFile, '--release', '11.2'], { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      let err = '';
      await new Promise<void>((resolve, reject) => {
        child.stderr.on('data', (c) => {
          err += c;
          if (/API key written to/.test(err)) resolve();
        });
        child.on('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
      });
      const baseUrl = /api\.baseUrl (\S+)/.exec(err)![1]!;
      const fingerprint = /certificate SHA-256 (\S+)/.exec(err)![1]!;
      expect(err).not.toContain(readFileSync(keyFile, 'utf8').trim()); // the key is in the file, never printed
      expect(err).toContain('imitates NetBackup 11.2: API versions 13.0, 14.0, jobs paged by cursor');
      expect((await runCli(['config', 'set', 'api.baseUrl', baseUrl], h.env)).code).toBe(0);
      expect((await runCli(['api', 'pin', '--fingerprint', fingerprint], h.env)).code).toBe(0);
      expect((await runCli(['api', 'key', 'set'], h.env, readFileSync(keyFile, 'utf8'))).code).toBe(0);
      const t = await runCli(['api', 'test'], h.env);
      expect(t.code, t.stdout).toBe(0);
      expect(t.stdout).toContain('API 14.0 (auto: the newest the primary serves)');
    } finally {
      const exited = new Promise((r) => child.on('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  });
});

describe('npm run demo', () => {
  it('runs the whole system: the scenario’s ten notifications in order and acknowledged, the COMMAND examples answered, everything removed', async () => {
    const { spawn } = await import('node:child_process');
    const script = new URL('../../scripts/demo.mjs', import.meta.url).pathname;
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, out).toBe(0);
    const order = [...out.matchAll(/NOTIFICATION REQUEST [0-9A-F]{8}…: (.*)/g)].map((m) => m[1]!.replace(/_\d+/, '_T'));
    expect(order).toEqual([
      'JOB 144 BACKUP ACTIVE (parent 144, client masterserver2.domain.com)',
      'JOB 145 BACKUP ACTIVE (parent 144, client DummyTestVM)',
      'JOB 146 BACKUP ACTIVE (parent 145, client DummyTestVM)',
      'IMAGE DummyTestVM_T CREATE',
      'IMAGE DummyTestVM_T UPDATE',
      'JOB 146 BACKUP DONE (parent 145, client DummyTestVM)',
      'JOB 145 BACKUP DONE (parent 144, client DummyTestVM)',
      'JOB 144 BACKUP DONE (parent 144, client masterserver2.domain.com)',
      'JOB 147 RESTORE DONE (parent 147, client masterserver2.domain.com)',
      'IMAGE DummyTestVM_T DELETE',
    ]);
    expect(out).toContain('all 10 notifications received');
    expect(out).toMatch(/COMMAND RESPONSE 200 \{"vmServer":\{"serverName":"vCenter2.domain.com"/);
    expect(out).toContain('nbwss api key set < apikey.txt');
    expect(out).toContain('Demo done');
    const store = /Store: (\S+)/.exec(out)![1]!;
    expect(existsSync(store)).toBe(false);
  }, 90_000);
});

describe('polling NetBackup: errors and the stand-in itself', () => {
  it('a failing primary (500): polls back off (1 s, 2 s, 4 s …), status says why, and polling picks up where it was once it answers', async () => {
    const ep = await endpoint();
    let failing = false;
    const p = await primary({
      handler: (req, res) => {
        if (!failing || !req.url!.startsWith('/netbackup/admin/jobs?filter=')) return false;
        res.writeHead(500, { 'content-type': 'application/vnd.netbackup+json;version=4.0' }).end('{"errorCode":9999,"errorMessage":"database unavailable"}');
        return true;
      },
    });
    const h = await pollingHome(p, ep.url, { 'api.poll.images': false });
    const d = startDaemon(h.env);
    await d.waitFor(connected('ep1.test'));
    await d.waitFor((l) => l.msg.startsWith('job polling starts'));
    failing = true;
    p.setJob(jobAt(300, 'DONE')); // changes while the primary fails: not lost
    const delays: unknown[] = [];
    await d.waitFor((l) => {
      if (l.msg === 'poll failed') delays.push(l.retryInMs);
      return delays.length >= 3;
    }, 20_000);
    expect(delays).toEqual([1000, 2000, 4000]);
    const st = JSON.parse((await runCli(['status', '--json'], h.env)).stdout);
    expect(st.polling.find((x: { source: string }) => x.source === 'jobs').lastError).toBe('GET /admin/jobs answered 500: database unavailable');
    failing = false;
    await d.waitFor((l) => l.msg === 'polling works again', 20_000);
    await ep.waitForNotifications(1);
    expect(jobStates(ep)).toEqual(['300:DONE']);
  });

  it('403 (a key whose role may not view jobs) is refused with the permissions named; the stand-in answers GET /admin/jobs/{id} and 404s', async () => {
    const p = await primary({
      handler: (req, res) => {
        if (req.headers.authorization !== 'viewer-without-jobs') return false;
        res.writeHead(403, { 'content-type': 'application/vnd.netbackup+json;version=4.0' }).end('{"errorCode":403,"errorMessage":"Forbidden"}');
        return true;
      },
    });
    const h = homeWith({ 'api.baseUrl': p.baseUrl });
    expect((await runCli(['api', 'pin', '--fingerprint', p.fingerprint], h.env)).code).toBe(0);
    const r = await runCli(['api', 'key', 'set'], h.env, 'viewer-without-jobs\n');
    expect(r.code).toBe(9);
    expect(r.stderr).toContain('refused the API key (403)');
    expect(r.stderr).toContain('lack the permissions nbwss needs (view jobs and images)');
    // The stand-in's single resources, as a cloud would reach them through COMMAND.
    const { Agent, request } = await import('undici');
    const agent = new Agent({ connect: { ca: p.certPem } });
    try {
      p.setJob(jobAt(42, 'ACTIVE'));
      const get = (path: string, version = '13.0') =>
        request(`${p.baseUrl}${path}`, { dispatcher: agent, headers: { authorization: API_KEY, accept: `application/vnd.netbackup+json;version=${version}` } });
      const one = await get('/admin/jobs/42');
      expect(one.statusCode).toBe(200);
      expect(one.headers['content-type']).toBe('application/vnd.netbackup+json;version=13.0');
      expect(await one.body.json()).toMatchObject({ data: { type: 'job', id: '42', attributes: { jobId: 42, state: 'ACTIVE' } } });
      const none = await get('/admin/jobs/43');
      expect(none.statusCode).toBe(404);
      await none.body.dump();
      // A version NetBackup 11.0 does not serve: 406 with NetBackup's error body (admin.yaml's 406 schema).
      const old = await get('/admin/jobs', '4.0');
      expect(old.statusCode).toBe(406);
      expect(await old.body.json()).toMatchObject({ errorCode: 2060006, errorDetails: [expect.stringContaining('12.0, 13.0')] });
      // Without a version (Veritas's Ansible roles send plain JSON): answered in the newest it serves, which its Content-Type names.
      const plain = await request(`${p.baseUrl}/admin/jobs`, { dispatcher: agent, headers: { authorization: API_KEY, 'content-type': 'application/json' } });
      expect(plain.statusCode).toBe(200);
      expect(plain.headers['content-type']).toBe('application/vnd.netbackup+json;version=13.0');
      await plain.body.dump();
    } finally {
      await agent.close();
    }
  });
});
