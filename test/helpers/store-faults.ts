import type { ReferenceEndpoint, ReferenceEndpointOptions } from '../../src/reference-endpoint/index.js';
import { afterAll, afterEach, expect } from 'vitest';
import { details, detailsFile, type Home, runCli } from './cli.js';
import { type DaemonProcess, stopAllDaemons } from './daemon.js';
import { type Postgres, sharedHost, useSharedPostgres } from './postgres.js';
import { jobNotification, useReferenceEndpoints } from './setup.js';
import { cleanupTempDirs } from './tmp.js';
import { until } from './wait.js';

/*
 * What the shared-store fault suites (store-faults, store-outage) share: stores of many groups on a throwaway
 * PostgreSQL, and the checks every fault ends with (no daemon exits, no group connected twice, delivered once).
 */

type Endpoints = (o?: Partial<ReferenceEndpointOptions>) => Promise<ReferenceEndpoint>;
type SharedPostgres = { available: boolean; server(): Postgres };

/** A fault suite's parts: reference endpoints and a throwaway PostgreSQL for the file, daemons stopped after each test. */
export function useStoreFaults() {
  const endpoint = useReferenceEndpoints();
  const db = useSharedPostgres();
  afterAll(cleanupTempDirs);
  afterEach(stopAllDaemons);
  return { endpoint, db, groupsOn: groupsOnStore(endpoint, db) };
}

export const outage = (ms: number) => new Promise((r) => setTimeout(r, ms)); // the fault's length is the test's input

/** A store on the file's PostgreSQL with `n` groups (one endpoint each, all on one reference endpoint), and more hosts of it. */
function groupsOnStore(endpoint: Endpoints, db: SharedPostgres) {
  return async (n: number, extra: Record<string, string> = {}) => {
    const ep = await endpoint({ path: null });
    const url = await db.server().database();
    const a = sharedHost(url);
    Object.assign(a.env, extra);
    const paths = Array.from({ length: n }, (_, i) => `/g${i}`);
    const docs = paths.map((p, i) =>
      details({ hostName: `g${i}.test`, url: ep.url.replace(/\/nbwss$/, p), groupId: `g${i}`, token: 'good-token', priority: 1 }),
    );
    const added = await runCli(['add', '--file', detailsFile(docs), '--yes'], a.env);
    expect(added.code, added.stderr).toBe(0);
    const more = (): Home => {
      const h = sharedHost(url, a.env.NBWSS_SECRET_KEY_FILE);
      Object.assign(h.env, extra);
      return h;
    };
    return { ep, a, paths, more };
  };
}

export const openOnce = (ep: ReferenceEndpoint, paths: string[]) => paths.every((p) => ep.byPath.get(p)?.open === 1);
export const noneOpen = (ep: ReferenceEndpoint, paths: string[]) => paths.every((p) => (ep.byPath.get(p)?.open ?? 0) === 0);
export const twice = (ep: ReferenceEndpoint, paths: string[]) => paths.filter((p) => (ep.byPath.get(p)?.maxOpen ?? 0) > 1);
export const alive = (d: DaemonProcess) => d.child.exitCode === null && d.child.signalCode === null;
/** The daemon's last words, for a failed assertion's message. */
export const said = (d: DaemonProcess) =>
  d.lines
    .slice(-6)
    .map((l) => JSON.stringify(l))
    .join('\n');
const fatal = (d: DaemonProcess) => d.lines.filter((l) => (l.level as number) >= 60);

/** Jobs 1..count reach each of `groups` groups exactly once: every job as many times as there are groups, nothing sent again. */
export async function deliveredOncePerGroup(ep: ReferenceEndpoint, count: number, groups: number): Promise<void> {
  await until(() => ep.notifications().length >= count * groups, 120_000, 'every notification delivered to every group');
  const seen = new Map<unknown, number>();
  for (const n of ep.notifications()) seen.set(n.data.jobId, (seen.get(n.data.jobId) ?? 0) + 1);
  expect(seen.size).toBe(count);
  expect([...seen.values()].filter((v) => v !== groups)).toEqual([]);
}

/** A JOB notification queued now reaches every group, once (one message per group). */
export async function deliveredEverywhere(ep: ReferenceEndpoint, h: Home, paths: string[], jobId: number, daemons: DaemonProcess[] = []): Promise<void> {
  const q = await runCli(['notify'], h.env, `${JSON.stringify(jobNotification(jobId))}\n`);
  expect(q.code, q.stderr).toBe(0);
  const mine = () => ep.notifications().filter((n) => n.data.jobId === jobId);
  try {
    await until(() => mine().length >= paths.length, 30_000, `job ${jobId} delivered to every group`);
  } catch (e) {
    // What a late delivery leaves to read: how far it got, which groups had a connection, what the daemons last said.
    const open = paths.map((p) => `${p}: ${ep.byPath.get(p)?.open ?? 0} open`).join(', ');
    throw new Error(`${(e as Error).message} (${mine().length} of ${paths.length}; ${open})\n${daemons.map(said).join('\n---\n')}`);
  }
  expect(new Set(mine().map((n) => n.messageId)).size).toBe(paths.length);
}

/** After a fault: every daemon still running, none said anything fatal, no group was ever connected twice. */
export function expectSurvived(daemons: DaemonProcess[], ep: ReferenceEndpoint, paths: string[]): void {
  expect(daemons.every(alive), daemons.map(said).join('\n')).toBe(true);
  expect(daemons.flatMap(fatal)).toEqual([]);
  expect(twice(ep, paths)).toEqual([]);
}
