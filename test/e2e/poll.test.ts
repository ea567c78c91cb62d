import { readFileSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type NetBackupApi, startNetBackupApi } from '../../src/reference-endpoint/netbackup-api.js';
import { GUIDE_PARENT_START, guideScenario, runScenario } from '../../src/reference-endpoint/scenario.js';
import { type Home, runCli } from '../helpers/cli.js';
import { type DaemonProcess, startDaemon, stopAllDaemons } from '../helpers/daemon.js';
import { addEndpoint, connected, homeWith, useReferenceEndpoints } from '../helpers/setup.js';
import { cleanupTempDirs } from '../helpers/tmp.js';

const endpoint = useReferenceEndpoints();
const primaries: NetBackupApi[] = [];
afterEach(async () => {
  await stopAllDaemons();
  await Promise.all(primaries.splice(0).map((p) => p.close()));
});
afterAll(cleanupTempDirs);

const GUIDE: { name: string; payload: { object: string; data: Record<string, unknown>[] }[] }[] = JSON.parse(
  readFileSync(new URL('../fixtures/guide/notifications.json', import.meta.url), 'utf8'),
);
const API_KEY = 'test-api-key-0123456789';

async function primary(o: Parameters<typeof startNetBackupApi>[0] = {}): Promise<NetBackupApi> {
  const p = await startNetBackupApi({ auth: { apiKeys: [API_KEY], users: [{ userName: 'poller', password: 'pw-1' }] }, ...o });
  primaries.push(p);
  return p;
}

/** A store that polls `p` with an API key, an endpoint of group sg1 added. */
async function pollingHome(p: NetBackupApi, url: string, props: Record<string, string | number | boolean> = {}): Promise<Home> {
  const h = homeWith({ 'api.baseUrl': p.baseUrl, 'notification.scheduledRate': 1, 'api.poll.jobs': true, 'api.poll.images': true, ...props });
  expect((await runCli(['api', 'pin', '--fingerprint', p.fingerprint], h.env)).code).toBe(0);
  const k = await runCli(['api', 'key', 'set'], h.env, `${API_KEY}\n`);
  expect(k.code, k.stderr).toBe(0);
  await addEndpoint(h, 'ep1.test', url);
  return h;
}

/** Resolves once the primary has answered `n` more listings of jobs and of images. */
async function morePolls(p: NetBackupApi, n: number): Promise<void> {
  const count = (what: string) => p.requests.filter((r) => r.url.startsWith(`/netbackup/${what}?`) && r.url.includes('filter=')).length;
  const jobs = count('admin/jobs');
  const images = count('catalog/images');
  await new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error('the daemon stopped polling')), 20_000);
    const t = setInterval(() => {
      if (count('admin/jobs') >= jobs + n && count('catalog/images') >= images + n) {
        clearInterval(t);
        clearTimeout(deadline);
        resolve();
      }
    }, 25);
  });
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
    await morePolls(p, 3);
    expect(ep.notifications()).toHaveLength(seen);
    const st = JSON.parse((await runCli(['status', '--json'], h.env)).stdout);
    const jobs = st.polling.find((x: { source: string }) => x.source === 'jobs');
    expect(jobs).toMatchObject({ enabled: true, lastError: null, events: 7, paused: null });
    expect(st.polling.find((x: { source: string }) => x.source === 'images')).toMatchObject({ enabled: true, events: 3 });
    // Every call carried the key and NetBackup's media type, with the version asked for.
    for (const r of p.requests) {
      expect(r.headers.authorization).toBe(API_KEY);
      expect(r.headers.accept).toBe('application/vnd.netbackup+json;version=4.0');
    }
    // The scenario is anchored at now, not at the guide's 2016.
    expect(GUIDE_PARENT_START + s.shift).toBeGreaterThanOrEqual(t0 - 120);
  });
});
