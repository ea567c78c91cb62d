import { afterEach, expect } from 'vitest';
import { type NetBackupApi, startNetBackupApi } from '../../src/reference-endpoint/netbackup-api.js';
import type { Home } from './cli.js';
import { runInProcess } from './io.js';
import { addEndpoint, homeWith } from './setup.js';

/** Stand-in primaries for the polling suites: each closed after its test. */
export const API_KEY = 'test-api-key-0123456789';

export function usePrimaries(): (o?: Parameters<typeof startNetBackupApi>[0]) => Promise<NetBackupApi> {
  const primaries: NetBackupApi[] = [];
  afterEach(async () => {
    await Promise.all(primaries.splice(0).map((p) => p.close()));
  });
  return async (o = {}) => {
    const p = await startNetBackupApi({ auth: { apiKeys: [API_KEY], users: [{ userName: 'poller', password: 'pw-1' }] }, ...o });
    primaries.push(p);
    return p;
  };
}

/** A store that polls `p` with an API key, an endpoint of group sg1 added (set-up steps, in-process: poll.test.ts runs them as a user does). */
export async function pollingHome(p: NetBackupApi, url: string, props: Record<string, string | number | boolean> = {}): Promise<Home> {
  const h = homeWith({ 'api.baseUrl': p.baseUrl, 'notification.scheduledRate': 1, 'api.poll.jobs': true, 'api.poll.images': true, ...props });
  const pin = await runInProcess(['api', 'pin', '--fingerprint', p.fingerprint], h.env);
  expect(pin.code, pin.stderr).toBe(0);
  const k = await runInProcess(['api', 'key', 'set'], h.env, `${API_KEY}\n`);
  expect(k.code, k.stderr).toBe(0);
  await addEndpoint(h, 'ep1.test', url);
  return h;
}

/**
 * Resolves once the primary has answered `n` more polls of each source named. A jobs poll begins with the overlap
 * (`lastUpdateTime ge …`, first page), an images poll with the listing's first page (`page[offset]=0`).
 */
export async function morePolls(p: NetBackupApi, n: number, sources: readonly ('jobs' | 'images')[] = ['jobs'], timeoutMs = 20_000): Promise<void> {
  const count = (what: string) =>
    p.requests.filter((r) => {
      if (!r.url.startsWith(`/netbackup/${what}?`)) return false;
      const q = new URL(r.url, 'https://x').searchParams;
      return what === 'admin/jobs'
        ? /^lastUpdateTime ge /.test(q.get('filter') ?? '') && !q.has('page[after]')
        : q.has('filter') && q.get('page[offset]') === '0';
    }).length;
  const jobs = count('admin/jobs') - (sources.includes('jobs') ? 0 : n);
  const images = count('catalog/images') - (sources.includes('images') ? 0 : n);
  await new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => {
      clearInterval(t);
      reject(new Error('the daemon stopped polling'));
    }, timeoutMs);
    const t = setInterval(() => {
      if (count('admin/jobs') >= jobs + n && count('catalog/images') >= images + n) {
        clearInterval(t);
        clearTimeout(deadline);
        resolve();
      }
    }, 25);
  });
}

/** A job as the REST API gives it (the words an older release used; the mapping makes them the guide's). */
export const jobAt = (jobId: number, state: string, extra: Record<string, unknown> = {}) => ({
  jobId,
  parentJobId: 0,
  jobType: 'BACKUP',
  policyType: 'Standard',
  policyName: 'files',
  scheduleType: 'INCR',
  scheduleName: 'daily',
  clientName: `client${jobId}.test`,
  status: 0,
  state,
  startTime: new Date().toISOString(),
  ...extra,
});

export const jobStates = (ep: { notifications(): { object: string; data: Record<string, unknown> }[] }) =>
  ep
    .notifications()
    .filter((n) => n.object === 'JOB')
    .map((n) => `${n.data.jobId}:${n.data.state}`);
