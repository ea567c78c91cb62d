import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ReferenceEndpoint } from '../../src/reference-endpoint/index.js';
import { details, detailsFile, runCli, type Home } from '../helpers/cli.js';
import { type DaemonProcess, startDaemon, stopAllDaemons } from '../helpers/daemon.js';
import { sharedHost, useSharedPostgres } from '../helpers/postgres.js';
import { jobNotification, useReferenceEndpoints } from '../helpers/setup.js';
import { cleanupTempDirs } from '../helpers/tmp.js';
import { until } from '../helpers/wait.js';

const endpoint = useReferenceEndpoints();
const db = useSharedPostgres();
const available = db.available;
afterAll(cleanupTempDirs);
afterEach(stopAllDaemons);

const GROUPS = 100;

const host = sharedHost;

/** Resolves when the async check holds, asked every 200 ms; rejects after `ms`. */
async function eventually(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const paths = Array.from({ length: GROUPS }, (_, i) => `/g${i}`);
const allOpenOnce = (ep: ReferenceEndpoint) => paths.every((p) => ep.byPath.get(p)?.open === 1);
const neverTwo = (ep: ReferenceEndpoint) => paths.filter((p) => (ep.byPath.get(p)?.maxOpen ?? 0) > 1);

async function status(h: Home) {
  return JSON.parse((await runCli(['status', '--json'], h.env)).stdout);
}

describe.skipIf(!available)('several daemons on one shared store', () => {
  it(`three daemons, ${GROUPS} groups: each group served once; kill -9 one → taken over, in-flight delivered, never two connections; PostgreSQL away 10 s → connections kept, nothing lost`, async () => {
    const ep = await endpoint({ path: null });
    const url = await db.server().database();
    const a = host(url);
    const docs = paths.map((p, i) =>
      details({ hostName: `g${i}.test`, url: ep.url.replace(/\/nbwss$/, p), groupId: `g${i}`, token: 'good-token', priority: 1 }),
    );
    const added = await runCli(['add', '--file', detailsFile(docs), '--yes'], a.env);
    expect(added.code, added.stderr).toBe(0);
    const hosts = [a, host(url, a.env.NBWSS_SECRET_KEY_FILE), host(url, a.env.NBWSS_SECRET_KEY_FILE)];
    const daemons: DaemonProcess[] = hosts.map((h) => startDaemon(h.env));
    await until(() => allOpenOnce(ep), 30_000, 'every group connected');
    expect(neverTwo(ep)).toEqual([]);
    // Started together: spread over the three (34, 34, 32), each group connected exactly once.
    expect(paths.filter((p) => ep.byPath.get(p)!.total !== 1)).toEqual([]);
    // Each daemon records its connections in the shared store; status reads them from there.
    await eventually(
      async () => ((await status(a)).groups as { connected: string | null }[]).filter((g) => g.connected).length === GROUPS,
      20_000,
      'every group recorded connected',
    );
    // The cluster view a daemon shows is the one its last coordination round read: wait for the round after every
    // daemon's heartbeat named the groups it took (a round-trip behind the connections themselves).
    type ClusterDaemon = { groups: string[]; pid: number; poller: boolean };
    const served = (daemons: ClusterDaemon[]) => daemons.reduce((n, d) => n + d.groups.length, 0);
    await eventually(
      async () => {
        const view = (await status(a)).cluster.daemons as ClusterDaemon[];
        return view.length === 3 && served(view) === GROUPS;
      },
      20_000,
      'the cluster view shows every group served',
    );
    const st = await status(a);
    expect(st.cluster.daemons).toHaveLength(3);
    expect(st.cluster.daemons.map((d: ClusterDaemon) => d.groups.length).sort((x: number, y: number) => x - y)).toEqual([32, 34, 34]);
    expect(st.cluster.daemons.filter((d: { poller: boolean }) => d.poller)).toHaveLength(1);

    // A notification in flight everywhere (acknowledgements withheld), then one daemon is killed.
    ep.setAckNotifications(false);
    expect((await runCli(['notify'], a.env, `${JSON.stringify(jobNotification(1))}\n`)).code).toBe(0);
    await until(() => ep.notifications().length >= GROUPS, 20_000, 'the notification reached every group');
    const victim = st.cluster.daemons.find((d: { pid: number }) => d.pid === daemons[1]!.child.pid) as { groups: string[] };
    const killedAt = Date.now();
    await daemons[1]!.stop('SIGKILL');
    await until(
      () => victim.groups.every((g) => ep.byPath.get(`/${g}`)!.total === 2 && ep.byPath.get(`/${g}`)!.open === 1),
      20_000,
      "the killed daemon's groups reconnected by the others",
    );
    const takeover = Date.now() - killedAt;
    expect(takeover).toBeLessThan(20_000);
    expect(neverTwo(ep)).toEqual([]);
    // Only the victim's groups were reconnected.
    expect(paths.filter((p) => ep.byPath.get(p)!.total !== (victim.groups.includes(p.slice(1)) ? 2 : 1))).toEqual([]);
    // Its in-flight messages went again, with their ids, to the new connections; acknowledged now, none lost.
    ep.setAckNotifications(true);
    await until(() => ep.notifications().length >= GROUPS + victim.groups.length, 20_000, 'the in-flight messages resent');
    const resentIds = ep.received.filter((m) => m.type === 'NOTIFICATION').map((m) => m.id);
    expect(new Set(resentIds).size).toBe(GROUPS); // the same message per group: no new ids
    const survivors = [daemons[0]!, daemons[2]!];
    const pending = async () => ((await status(hosts[0]!)).groups as { notifications: { pending: number } }[]).reduce((n, g) => n + g.notifications.pending, 0);
    await eventually(async () => (await pending()) === 0, 30_000, 'every notification acknowledged');
    expect((await status(hosts[0]!)).cluster.daemons).toHaveLength(2);

    // PostgreSQL away for 10 s: the daemons keep every connection; nothing is reconnected, nothing lost.
    const totals = paths.map((p) => ep.byPath.get(p)!.total);
    db.server().stopServer();
    await new Promise((r) => setTimeout(r, 10_000)); // the outage itself
    expect(allOpenOnce(ep)).toBe(true);
    db.server().startServer();
    await Promise.all(survivors.map((d) => d.waitFor((l) => l.msg === 'the shared store answers again', 20_000)));
    expect(paths.map((p) => ep.byPath.get(p)!.total)).toEqual(totals);
    const seen = ep.notifications().length;
    expect((await runCli(['notify'], a.env, `${JSON.stringify(jobNotification(2))}\n`)).code).toBe(0);
    await until(() => ep.notifications().length >= seen + GROUPS, 20_000, 'a notification after the outage reached every group');
    expect(neverTwo(ep)).toEqual([]);
  }, 180_000);
});
