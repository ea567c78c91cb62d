import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { throwawayCertificate } from '../../src/reference-endpoint/index.js';
import type { NetBackupApi } from '../../src/reference-endpoint/netbackup-api.js';
import { runCli, sharedStoreRun } from '../helpers/cli.js';
import { type DaemonProcess, startDaemon, stopAllDaemons } from '../helpers/daemon.js';
import { API_KEY, jobAt, morePolls, pollingHome, usePrimaries } from '../helpers/primary.js';
import { addEndpoint, connected, homeWith, useReferenceEndpoints } from '../helpers/setup.js';
import { pollCounts } from '../helpers/store.js';
import { cleanupTempDirs } from '../helpers/tmp.js';

/*
 * The poller against primaries as current NetBackup releases answer, and against broken or hostile ones. Each
 * behaviour of the stand-in (src/reference-endpoint/netbackup-api.ts) names its evidence there: the OpenAPI bundles
 * of NetBackup 10.3, 10.5, 11.0 and 11.2 (kept by fjacquet/nbu_exporter, docs/veritas-*; its ADR-0003 on versions and
 * the jobs cursor), nbu_exporter's version probe (internal/exporter/version_detector.go), Veritas's Ansible roles for
 * 10.5–11.1 (VeritasOS/netbackup-automation-platform: plain JSON, Bearer JWTs) and NetBackup's getting-started guide.
 */

const endpoint = useReferenceEndpoints();
const primary = usePrimaries();
afterEach(stopAllDaemons);
afterAll(cleanupTempDirs);

async function pollingDaemon(p: NetBackupApi, props: Record<string, string | number | boolean> = {}) {
  const ep = await endpoint();
  const h = await pollingHome(p, ep.url, { 'api.poll.images': false, ...props });
  const d = startDaemon(h.env);
  await d.waitFor(connected('ep1.test'));
  await d.waitFor((l) => l.msg.startsWith('job polling starts'));
  return { ep, h, d };
}

/** The jobs notified, once each however often a message was resent: jobId → the distinct messages that carried it. */
function deliveries(ep: { notifications(): { messageId: string; data: Record<string, unknown> }[] }): Map<number, Set<string>> {
  const out = new Map<number, Set<string>>();
  for (const n of ep.notifications()) {
    const id = n.data.jobId as number;
    if (!out.has(id)) out.set(id, new Set());
    out.get(id)!.add(n.messageId);
  }
  return out;
}

async function waitForJobs(ep: Parameters<typeof deliveries>[0], n: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (deliveries(ep).size < n) {
    if (Date.now() > deadline) throw new Error(`${deliveries(ep).size} of ${n} jobs notified`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The daemon's peak resident memory (VmHWM), in MiB, from /proc. */
function peakRssMiB(d: DaemonProcess): number {
  const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${d.child.pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

const statusOf = async (env: NodeJS.ProcessEnv) => JSON.parse((await runCli(['status', '--json'], env)).stdout);

describe('API versions as current primaries serve them', () => {
  it('a primary serving only 12.0 and 13.0 (a version required): key set, api test and polling work with none configured; after it upgrades to 14.0 the running daemon follows, with one log line', async () => {
    // NetBackup 11.0 declares 13.0 (its OpenAPI bundle); what it keeps of older ones is not documented: here 12.0 only.
    const p = await primary({ release: { versions: ['12.0', '13.0'], unversioned: false } });
    const { ep, h, d } = await pollingDaemon(p);
    const t = await runCli(['api', 'test', '--json'], h.env);
    expect(t.code, t.stdout).toBe(0);
    expect(JSON.parse(t.stdout)).toMatchObject({ version: '13.0', failure: null });
    p.setJob(jobAt(11, 'DONE'));
    await waitForJobs(ep, 1);
    expect((await statusOf(h.env)).api.version).toBe('13.0');

    // The primary is upgraded under the running daemon: it now serves 14.0 only (406 for 13.0).
    p.setRelease({ versions: ['14.0'], unversioned: false });
    p.setJob(jobAt(12, 'DONE'));
    await waitForJobs(ep, 2);
    await morePolls(p, 2);
    const said = d.lines.filter((l) => l.msg.startsWith('the primary no longer serves API version'));
    expect(said.map((l) => l.msg)).toEqual(['the primary no longer serves API version 13.0: nbwss now asks for 14.0']);
    expect(d.lines.some((l) => l.msg === 'poll failed')).toBe(false);
    expect((await statusOf(h.env)).api.version).toBe('14.0');
    expect(p.requests.at(-1)!.headers.accept).toBe('application/vnd.netbackup+json;version=14.0');

    // A version set by hand is used as given; refused, api test names what the primary serves and the command that fixes it.
    expect((await runCli(['config', 'set', 'api.version', '13.0'], h.env)).code).toBe(0);
    const fixed = await runCli(['api', 'test'], h.env);
    expect(fixed.code).toBe(4);
    expect(fixed.stdout).toContain(
      "NetBackup's REST API does not serve API version 13.0 (api.version): it answered 406; the newest version it serves is 14.0. Let nbwss find the version with: nbwss config set api.version auto (or nbwss config set api.version 14.0)",
    );
  });

  it('a primary without any version nbwss asks for says so; an 8.3 primary (3.0, 4.0, offset paging) takes a bare JWT', async () => {
    const p = await primary({ release: '8.3' });
    const ep = await endpoint();
    const h = homeWith({ 'api.baseUrl': p.baseUrl, 'notification.scheduledRate': 1, 'api.poll.jobs': true });
    expect((await runCli(['api', 'pin', '--fingerprint', p.fingerprint], h.env)).code).toBe(0);
    const login = await runCli(['api', 'login', '--user', 'poller'], h.env, 'pw-1\n');
    expect(login.code, login.stderr).toBe(0);
    await addEndpoint(h, 'ep1.test', ep.url);
    const d = startDaemon(h.env);
    await d.waitFor(connected('ep1.test'));
    await d.waitFor((l) => l.msg.startsWith('job polling starts'));
    for (let i = 1; i <= 250; i++) p.setJob(jobAt(2000 + i, 'DONE'));
    await waitForJobs(ep, 250);
    await morePolls(p, 2);
    expect([...deliveries(ep).values()].every((m) => m.size === 1)).toBe(true);
    // Before 10.5 the getting-started guide sends the JWT bare; the 8.3 stand-in refuses `Bearer`.
    const jobs = p.requests.filter((r) => r.url.startsWith('/netbackup/admin/jobs'));
    expect(jobs.every((r) => r.headers.authorization?.startsWith('eyJ'))).toBe(true);
    expect(jobs.every((r) => r.headers.accept === 'application/vnd.netbackup+json;version=4.0')).toBe(true);
    // Offset paging: the 250 came in pages of 100 by page[offset].
    expect(jobs.some((r) => new URL(r.url, 'https://x').searchParams.get('page[offset]') === '100')).toBe(true);
  });
});

describe('paging as the primary answers', () => {
  it('cursor paging: 1,000 jobs changing in one second are each notified exactly once, in order, across a kill -9 in the middle', async () => {
    // GET /admin/jobs pages by page[after] (API 9.0 on); page[offset] is ignored — the stall nbwss had: it re-read page one.
    const p = await primary({ release: '11.2' });
    const { ep, h, d } = await pollingDaemon(p);
    const second = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();
    p.setJobs(Array.from({ length: 1000 }, (_, i) => jobAt(10_001 + i, 'DONE', { lastUpdateTime: second })));
    await waitForJobs(ep, 150);
    await d.stop('SIGKILL');
    const again = startDaemon(h.env);
    await again.waitFor(connected('ep1.test'));
    await waitForJobs(ep, 1000);
    await morePolls(p, 3);
    const got = deliveries(ep);
    expect(got.size).toBe(1000);
    // Once each: a message resent after the kill keeps its id, so each job rode in exactly one message.
    expect([...got.entries()].filter(([, m]) => m.size !== 1)).toEqual([]);
    // In (lastUpdateTime, jobId) order: all in one second, so by jobId.
    const firstSeen = [...new Set(ep.notifications().map((n) => n.data.jobId as number))];
    expect(firstSeen).toEqual(Array.from({ length: 1000 }, (_, i) => 10_001 + i));
    expect(p.requests.every((r) => !new URL(r.url, 'https://x').searchParams.has('page[offset]'))).toBe(true);
  });

  it('links.next is followed on api.baseUrl; a links.next to another host is not, and the key never leaves api.baseUrl', async () => {
    const linked = await primary({ release: { jobsPaging: 'links' } });
    const a = await pollingDaemon(linked);
    for (let i = 1; i <= 250; i++) linked.setJob(jobAt(3000 + i, 'DONE'));
    await waitForJobs(a.ep, 250);
    expect(linked.requests.some((r) => new URL(r.url, 'https://x').searchParams.has('page[after]'))).toBe(true);

    const elsewhere = await primary();
    const hostile = await primary({ release: { jobsPaging: 'links' }, nextLinkOrigin: new URL(elsewhere.baseUrl).origin });
    const b = await pollingDaemon(hostile);
    for (let i = 1; i <= 250; i++) hostile.setJob(jobAt(4000 + i, 'DONE'));
    // Every job is still notified, once: nbwss reads on from its own cursor instead of following the link.
    await waitForJobs(b.ep, 250);
    await morePolls(hostile, 2);
    expect([...deliveries(b.ep).values()].every((m) => m.size === 1)).toBe(true);
    expect(elsewhere.requests).toEqual([]);
    expect(b.d.lines.filter((l) => l.msg === 'GET /admin/jobs: the next page is not followed').length).toBe(1);
    expect(hostile.requests.every((r) => r.headers.authorization === API_KEY)).toBe(true);
  });
});

describe('a primary that cannot stall, skew or swell the poller', () => {
  it('a page of 35,000 jobs where 100 were asked for: only 100 are used (said once), every job is notified once, memory and job states stay bounded', async () => {
    // The 16 attributes nbwss reads, so that 35,000 fit in one answer (api.maxBodyBytes raised for it: the bound
    // that refuses a larger answer is tested with COMMAND). Job states capped at 40,000 (the cap itself: poll.test.ts).
    const p = await primary({ ignorePageLimit: 'once', fullAttributes: false });
    const { ep, h, d } = await pollingDaemon(p, { 'api.maxBodyBytes': 64 * 1024 * 1024, 'api.poll.maxJobStates': 40_000 });
    const second = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();
    p.setJobs(Array.from({ length: 35_000 }, (_, i) => jobAt(100_001 + i, 'DONE', { lastUpdateTime: second })));
    await waitForJobs(ep, 35_000, 180_000);
    await morePolls(p, 2);
    const oversized = d.lines.filter((l) => l.msg === 'GET /admin/jobs sent more items than page[limit] asked for: only those asked for are used');
    expect(oversized).toHaveLength(1);
    expect(oversized[0]).toMatchObject({ sent: 35_000, asked: 100 });
    expect([...deliveries(ep).values()].every((m) => m.size === 1)).toBe(true);
    expect(pollCounts(h).jobs).toBeLessThanOrEqual(40_000);
    // Seen here: about 150 MiB at the peak (one 15 MB answer parsed); the ceiling leaves room for a loaded machine.
    expect(peakRssMiB(d)).toBeLessThan(512);
    // The test's own bound is the wait's (180 s) plus start and checks: 22 s alone, 57–60 s+ beside two busy files.
  }, 240_000);

  it('a job dated 9999-12-31 neither moves the cursor past the primary’s clock nor stops the jobs after it; status and the log say so', async () => {
    const p = await primary();
    const { ep, h, d } = await pollingDaemon(p);
    p.setJob(jobAt(900, 'DONE', { lastUpdateTime: '9999-12-31T00:00:00.000Z' }));
    await morePolls(p, 2);
    p.setJob(jobAt(901, 'DONE'));
    await waitForJobs(ep, 1);
    await morePolls(p, 2);
    expect([...deliveries(ep).keys()]).toEqual([901]);
    const jobs = (await statusOf(h.env)).polling.find((x: { source: string }) => x.source === 'jobs');
    expect(Date.parse(jobs.cursor)).toBeLessThanOrEqual(Date.now() + 10_000);
    expect(jobs.warning).toContain('job 900 is dated 9999-12-31T00:00:00.000Z, after the primary');
    expect((await runCli(['status'], h.env)).stdout).toContain('warning: job 900 is dated 9999-12-31');
    expect(d.lines.filter((l) => l.msg === "a job is dated after the primary's clock: it is not read until then")).toHaveLength(1);
  });

  it('an image listing of pages of 16 MiB that never ends: memory and watched images stay bounded, job notifications go on', async () => {
    let pages = 0;
    const pad = 'x'.repeat(160 * 1024);
    const backupTime = new Date(Math.floor(Date.now() / 1000) * 1000 - 3600_000).toISOString();
    const p = await primary({
      handler: (req, res) => {
        const url = new URL(req.url!, 'https://x');
        if (url.pathname !== '/netbackup/catalog/images' || !url.searchParams.has('filter')) return false;
        // 100 images per page, each carrying 160 KiB: a page just under 16 MiB; and always a next page.
        const offset = Number(url.searchParams.get('page[offset]') ?? 0);
        pages++;
        const data = Array.from({ length: 100 }, (_, i) => ({
          type: 'image',
          id: `img_${offset + i}`,
          attributes: { backupId: `img_${offset + i}`, clientName: 'c1', policyType: 'STANDARD', backupTime, note: pad },
        }));
        res
          .writeHead(200, { 'content-type': 'application/vnd.netbackup+json;version=13.0' })
          .end(JSON.stringify({ data, meta: { pagination: { offset, limit: 100, next: offset + 100 } } }));
        return true;
      },
    });
    const { ep, h, d } = await pollingDaemon(p, { 'api.poll.images': true, 'api.poll.maxImages': 500 });
    await d.waitFor((l) => l.msg.startsWith('image polling starts'), 60_000);
    const before = pages;
    await morePolls(p, 2, ['images'], 60_000);
    p.setJob(jobAt(77, 'DONE'));
    await waitForJobs(ep, 1);
    // At most 5 pages (500 images) a poll, the same images each time: nothing new to say about them.
    expect(pages - before).toBeLessThanOrEqual(3 * 5);
    expect(ep.notifications().filter((n) => n.object === 'IMAGE')).toEqual([]);
    expect(d.lines.filter((l) => l.msg.startsWith('more images in the watched window than one poll reads'))).toHaveLength(1);
    expect(pollCounts(h).images).toBeLessThanOrEqual(500);
    // Seen here: about 280 MiB at the peak (a 16 MiB answer and its parse at a time).
    expect(peakRssMiB(d)).toBeLessThan(512);
  });
});

describe('fixing the REST settings retries at once', () => {
  it('a pin that no longer matches: polling backs off; nbwss api pin of the new certificate makes it poll again at once', async () => {
    const p = await primary();
    // scheduledRate 60: the next try after a failure is a minute away; the new pin must not wait for it.
    const { h, d } = await pollingDaemon(p, { 'notification.scheduledRate': 60 });
    const renewed = await throwawayCertificate('127.0.0.1');
    p.setCertificate(renewed);
    expect((await runCli(['api', 'poll'], h.env)).code).toBe(0);
    const failed = await d.waitFor((l) => l.msg === 'poll failed', 20_000);
    expect(failed.retryInMs).toBeGreaterThanOrEqual(60_000);
    expect(String(failed.err)).toContain('does not match the pin');
    const mark = d.mark();
    const { X509Certificate } = await import('node:crypto');
    const pinned = await runCli(['api', 'pin', '--fingerprint', new X509Certificate(renewed.cert).fingerprint256], h.env);
    expect(pinned.code, pinned.stderr).toBe(0);
    // Well inside the minute the back-off would have waited.
    await d.waitFor((l) => l.msg === 'polling works again', 30_000, mark);
  });
});

describe.skipIf(sharedStoreRun)('a poll page is queued and its cursor moved in one transaction', () => {
  it('when moving the cursor fails (injected through the real SQLite store: a trigger that aborts it), the page’s notifications are not queued either; the next round queues them once', async () => {
    const p = await primary();
    const { ep, h, d } = await pollingDaemon(p);
    p.setJob(jobAt(21, 'DONE'));
    await waitForJobs(ep, 1);
    // Armed: every write of a poll source's cursor aborts, as a full disk or a crash between two statements would.
    const db = new Database(join(h.dir, 'nbwss.db'));
    try {
      db.exec(`CREATE TRIGGER test_fail_advance_i BEFORE INSERT ON poll_sources BEGIN SELECT RAISE(ABORT, 'injected: the cursor cannot move'); END;
               CREATE TRIGGER test_fail_advance_u BEFORE UPDATE ON poll_sources BEGIN SELECT RAISE(ABORT, 'injected: the cursor cannot move'); END;`);
      p.setJob(jobAt(22, 'DONE'));
      await d.waitFor((l) => l.msg === 'poll failed' && String(l.err).includes('injected'));
      await d.waitFor((l) => l.msg === 'poll failed' && String(l.err).includes('injected')); // a second round, same page
      // Nothing of the page was queued (so nothing sent): its cursor did not move.
      expect((db.prepare('SELECT count(*) AS n FROM notifications').get() as { n: number }).n).toBe(0);
      expect(ep.notifications().filter((n) => n.data.jobId === 22)).toHaveLength(0);
    } finally {
      db.exec('DROP TRIGGER test_fail_advance_i; DROP TRIGGER test_fail_advance_u;');
      db.close();
    }
    await waitForJobs(ep, 2);
    await morePolls(p, 2);
    // Job 22 in one message, once: a queue that committed without its cursor would have queued it on every round.
    expect([...deliveries(ep).get(22)!]).toHaveLength(1);
    expect(ep.notifications().filter((n) => n.data.jobId === 22)).toHaveLength(1);
  });
});
