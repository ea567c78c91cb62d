// npm run bench:ha: several daemons on one shared PostgreSQL store, on loopback
// only (a throwaway cluster, initdb + pg_ctl, removed at the end). Prints
// figures, asserts nothing; bounded in time; cleans up.
//
// 1. 500 server groups (one endpoint each, all on one local wss server) over
//    3 daemons: time until every group is served, the spread, then kill -9 of
//    the daemon serving the most and the takeover time: from the kill until
//    each of its groups is connected again by the others (connectionInfo.period
//    60, so no periodic reconcile helps). The peak of connections open at once
//    per group is printed too (it must be 1).
// 2. Notifications/s through one daemon and 10 groups, with the outbox in
//    SQLite and in PostgreSQL: a backlog queued by one nbwss notify, from the
//    first notification received until every group has received every one
//    (BENCH_NOTIFICATIONS, 20,000; BENCH_PART=outbox runs this part only).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startReferenceEndpoint } from '../dist/reference-endpoint.js';
import { postgresAvailable, startPostgres } from '../dist/throwaway-postgres.js';
import { addGroups, bounded, jobLine, runNbwss } from './harness.mjs';
import { BIN } from './seed.mjs';

const GROUPS = Number(process.env.BENCH_GROUPS ?? 500);
const DAEMONS = 3;
const LIMIT_MS = Number(process.env.BENCH_LIMIT_MS ?? 180_000);
const { cleanups, cleanup, done } = bounded('bench:ha', LIMIT_MS);
const run = runNbwss;

function daemon(env) {
  const d = spawn(process.execPath, [BIN, 'daemon', '--log-stderr'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  createInterface({ input: d.stderr }).on('line', (l) => process.env.BENCH_DEBUG && console.error(l.slice(0, 200)));
  const exited = new Promise((r) => d.on('exit', r));
  cleanups.push(async () => {
    if (d.exitCode === null && d.signalCode === null) d.kill('SIGTERM');
    await exited;
  });
  return { d, exited };
}

const until = (check, what) =>
  new Promise((resolve, reject) => {
    const end = Date.now() + LIMIT_MS;
    const t = setInterval(() => {
      if (check()) {
        clearInterval(t);
        resolve();
      } else if (Date.now() > end) {
        clearInterval(t);
        reject(new Error(`not within the limit: ${what}`));
      }
    }, 20);
  });

function hostEnv(root, i, url, keyFile) {
  return {
    ...process.env,
    NBWSS_HOME: join(root, `host${i}`),
    NBWSS_STORE: url ?? '',
    NBWSS_SECRET_STORE: 'file',
    NBWSS_SECRET_KEY_FILE: keyFile,
  };
}

async function takeover(pg, root) {
  const ep = await startReferenceEndpoint({ token: 'bench-token', path: null });
  cleanups.push(() => ep.close());
  const url = await pg.database();
  const key = join(root, 'secret.key');
  const envs = Array.from({ length: DAEMONS }, (_, i) => hostEnv(root, `ha${i}`, url, key));
  await addGroups(envs[0], ep, root, GROUPS);
  const paths = Array.from({ length: GROUPS }, (_, g) => `/g${g}`);
  const t0 = performance.now();
  const ds = envs.map((e) => daemon(e));
  await until(() => paths.every((p) => ep.byPath.get(p)?.open === 1), 'every group served');
  const served = performance.now() - t0;
  // Who serves what: the status of one host (every daemon, its groups).
  const status = await new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [BIN, 'status', '--json'], { env: envs[0], stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`status exited ${code}`))));
  });
  const daemons = status.cluster.daemons;
  const spread = daemons.map((d) => d.groups.length).sort((a, b) => b - a);
  const victim = daemons.reduce((a, b) => (b.groups.length > a.groups.length ? b : a));
  const vIndex = ds.findIndex((x) => x.d.pid === victim.pid);
  const moved = victim.groups.map((g) => `/g${g.replace(/^group/, '')}`);
  const killed = performance.now();
  ds[vIndex].d.kill('SIGKILL');
  await until(() => moved.every((p) => ep.byPath.get(p).total === 2 && ep.byPath.get(p).open === 1), 'the killed daemon’s groups reconnected');
  const took = performance.now() - killed;
  const peak = Math.max(...paths.map((p) => ep.byPath.get(p).maxOpen));
  console.log(`${GROUPS} groups over ${DAEMONS} daemons: all served in ${(served / 1000).toFixed(1)} s, spread ${spread.join(' / ')}`);
  console.log(`kill -9 of the daemon serving ${moved.length} groups: taken over by the others in ${(took / 1000).toFixed(2)} s (connectionInfo.period 60)`);
  console.log(`most connections open at once for one group: ${peak}`);
  await cleanup();
}

async function throughput(label, url, root, groups, count) {
  const ep = await startReferenceEndpoint({ token: 'bench-token', path: null });
  cleanups.push(() => ep.close());
  const env = hostEnv(root, `tp-${label}`, url, join(root, 'secret.key'));
  await addGroups(env, ep, root, groups);
  await run(env, ['notify'], `${Array.from({ length: count }, (_, i) => jobLine(i + 1)).join('\n')}\n`);
  const t0 = performance.now();
  daemon(env);
  // Timed from the first notification received (the daemon's start and its connections are not the outbox's cost).
  await until(() => ep.notifications().length > 0, 'a first notification');
  const t1 = performance.now();
  await until(() => ep.notifications().length >= groups * count, 'every notification received');
  const s = (performance.now() - t1) / 1000;
  console.log(
    `${label.padEnd(10)} outbox: ${count} notifications × ${groups} groups delivered and acknowledged in ${s.toFixed(2)} s after the first (start and connect ${((t1 - t0) / 1000).toFixed(2)} s): ${Math.round(count / s)} notifications/s per group (${Math.round((count * groups) / s)} deliveries/s; target on PostgreSQL: 2,500/s per group)`,
  );
  await cleanup();
}

if (!postgresAvailable()) {
  console.error('bench:ha needs PostgreSQL (Debian postgresql: initdb, pg_ctl)');
  process.exit(1);
}
const root = mkdtempSync(join(tmpdir(), 'nbwss-bench-ha-'));
const pg = await startPostgres();
try {
  if (process.env.BENCH_PART !== 'outbox') await takeover(pg, root);
  const count = Number(process.env.BENCH_NOTIFICATIONS ?? 20_000);
  await throughput('SQLite', undefined, root, 10, count);
  await throughput('PostgreSQL', await pg.database(), root, 10, count);
} finally {
  await cleanup();
  pg.stop();
  rmSync(root, { recursive: true, force: true });
  done();
}
