// npm run bench:notify: notifications and REST calls through the daemon, on
// loopback only. Prints figures, asserts nothing; bounded in time; cleans up.
//
// 1. With 1, 10 and 100 server groups (one endpoint each, all on one local
//    wss server that acknowledges at once): notify -> ack latency p50/p99 of
//    single notifications sent while idle (from before the durable commit to
//    the endpoint receiving the NOTIFICATION REQUEST and answering it), then
//    the throughput of a backlog: notifications/s acknowledged by every group.
// 2. COMMAND round trip with 50 connections against a stand-in of the
//    NetBackup REST API: p50/p99 through the daemon, the same call made
//    directly, and the difference (the daemon's overhead).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { Agent, request } from 'undici';
import { startReferenceEndpoint } from '../dist/reference-endpoint.js';
import { startNetBackupApi } from '../dist/netbackup-api.js';
import { addGroups, record } from './harness.mjs';
import { BIN } from './seed.mjs';

const LIMIT_MS = Number(process.env.BENCH_LIMIT_MS ?? 120_000);
const GROUP_COUNTS = (process.env.BENCH_GROUPS ?? '1,10,100').split(',').map(Number);
const { queueJobs } = createRequire(import.meta.url)('../dist/store-seed.cjs');
const cleanups = [];

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (x) => `${x.toFixed(2)} ms`;

function bounded(promise, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not within ${LIMIT_MS / 1000} s`)), LIMIT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** A store with `groups` groups (one endpoint each) and a running daemon connected to all. */
async function setUp(groups, props = {}, prepare = () => ({})) {
  const root = mkdtempSync(join(tmpdir(), 'nbwss-bench-notify-'));
  const env = { ...process.env, NBWSS_HOME: join(root, 'store'), NBWSS_SECRET_STORE: 'file', NBWSS_SECRET_KEY_FILE: join(root, 'secret.key') };
  const ep = await startReferenceEndpoint({ token: 'bench-token', path: null });
  const run = (args) =>
    new Promise((resolve, reject) => {
      const c = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      c.stderr.on('data', (d) => (err += d));
      c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`nbwss ${args[0]} exited ${code}: ${err.slice(-500)}`))));
    });
  await addGroups(env, ep, root, groups);
  for (const [k, v] of Object.entries({ 'connectionInfo.period': 60, ...props, ...prepare(root) })) await run(['config', 'set', k, String(v)]);
  // BENCH_PROFILE=DIR: a V8 CPU profile of each daemon into DIR (open it in Chrome's DevTools).
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  let daemon;
  /** Start the daemon; resolves once every group is connected. */
  const startDaemon = async () => {
    daemon = spawn(process.execPath, [...profile, BIN, 'daemon', '--log-stderr'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let connected = 0;
    let onLine = () => {};
    createInterface({ input: daemon.stderr }).on('line', (line) => {
      try {
        if (process.env.BENCH_DEBUG) console.error(line.slice(0, 300));
        const l = JSON.parse(line);
        if (l.msg === 'connected') connected++;
        onLine(l);
      } catch {
        /* not a log line */
      }
    });
    await bounded(
      new Promise((resolve) => {
        onLine = () => connected === groups && resolve();
      }),
      `${groups} groups connected`,
    );
  };
  const stopDaemon = async () => {
    if (daemon.exitCode !== null) return;
    const exited = new Promise((r) => daemon.on('exit', r));
    daemon.kill('SIGTERM');
    await exited;
  };
  await startDaemon();
  const home = env.NBWSS_HOME;
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await stopDaemon();
    await ep.close();
    rmSync(root, { recursive: true, force: true });
  };
  cleanups.push(cleanup);
  return { ep, home, cleanup, startDaemon, stopDaemon };
}

/** What nbwss notify does after its commit: nudge the daemon over its socket. */
const nudge = (home) =>
  new Promise((resolve) => {
    const s = connect(join(home, 'daemon.sock'));
    s.on('connect', () => s.end('{"cmd":"notify","refused":[]}\n'));
    s.resume(); // read the answer, so that the socket can close
    s.on('close', resolve);
    s.on('error', resolve);
  });

async function notifications(groups) {
  const { ep, home, cleanup, startDaemon, stopDaemon } = await setUp(groups);
  let jobId = 1;
  // Idle latency: one notification at a time, each to every group. 200 rounds for every group count: the first few
  // dozen run while the daemon's code is still being compiled and optimised, and with the 50 that 100 groups once had
  // the median was partly a figure of that warm-up.
  const latencies = [];
  const rounds = 200;
  for (let i = 0; i < rounds; i++) {
    const before = ep.notifications().length;
    const t0 = performance.now();
    queueJobs(home, jobId++, 1);
    await nudge(home);
    await bounded(ep.waitForNotifications(before + groups, LIMIT_MS), 'a notification acknowledged');
    latencies.push(performance.now() - t0);
  }
  // Backlog throughput: N notifications queued (durably, 1000 per commit), each delivered to every group.
  const n = Math.min(20_000, Math.floor(400_000 / groups));
  const before = ep.notifications().length;
  const t0 = performance.now();
  for (let i = 0; i < n; i += 1000) {
    queueJobs(home, jobId, Math.min(1000, n - i));
    jobId += 1000;
    await nudge(home);
  }
  await bounded(ep.waitForNotifications(before + n * groups, LIMIT_MS), `${n} notifications to ${groups} groups`);
  const seconds = (performance.now() - t0) / 1000;
  // Draining a backlog already in the store (the cloud was away): from the daemon's start to the last acknowledgement.
  await stopDaemon();
  for (let i = 0; i < n; i += 1000) {
    queueJobs(home, jobId, Math.min(1000, n - i));
    jobId += 1000;
  }
  const drainFrom = ep.notifications().length;
  const t1 = performance.now();
  await startDaemon();
  await bounded(ep.waitForNotifications(drainFrom + n * groups, LIMIT_MS), `a backlog of ${n} to ${groups} groups`);
  const drainSeconds = (performance.now() - t1) / 1000;
  await cleanup();
  return {
    groups,
    p50: pct(latencies, 50),
    p99: pct(latencies, 99),
    rounds,
    n,
    perSecond: n / seconds,
    deliveriesPerSecond: (n * groups) / seconds,
    drainPerSecond: n / drainSeconds,
  };
}

async function commands() {
  const api = await startNetBackupApi();
  cleanups.push(() => api.close());
  const { ep, cleanup } = await setUp(50, { 'api.baseUrl': api.baseUrl }, (root) => {
    const ca = join(root, 'netbackup-ca.pem');
    writeFileSync(ca, api.certPem);
    return { 'api.caFile': ca };
  });
  const payload = { uri: '/netbackup/config/servers/vmservers', method: 'GET', headers: { Authorization: 'bench-jwt' } };
  const clients = [...ep.clients()];
  const through = [];
  for (let i = 0; i < 1000; i++) {
    const t0 = performance.now();
    const r = await ep.command(payload, { via: clients[i % clients.length] });
    if (r.payload.responseCode !== 200) throw new Error(`COMMAND answered ${r.payload.responseCode}: ${r.payload.body}`);
    through.push(performance.now() - t0);
  }
  // The same call made directly, over a kept-alive TLS connection as the daemon's is.
  const agent = new Agent({ connect: { ca: api.certPem } });
  const direct = [];
  for (let i = 0; i < 1000; i++) {
    const t0 = performance.now();
    const res = await request(`${api.baseUrl}/config/servers/vmservers`, { headers: { authorization: 'bench-jwt' }, dispatcher: agent });
    await res.body.text();
    direct.push(performance.now() - t0);
  }
  await agent.close();
  await cleanup();
  return { clients: clients.length, through, direct };
}

try {
  console.log('notifications through the daemon, on loopback (each notification goes to every group)');
  for (const g of GROUP_COUNTS) {
    const r = await notifications(g);
    record(`notify.p50.${g}`, r.p50);
    record(`notify.queued.${g}`, r.perSecond);
    record(`notify.drain.${g}`, r.drainPerSecond);
    console.log(
      `  ${String(g).padStart(3)} group${g === 1 ? ' ' : 's'}: notify->ack p50 ${ms(r.p50)}  p99 ${ms(r.p99)} (${r.rounds} idle); ${r.n} queued while delivering: ${Math.round(r.perSecond)}/s acknowledged by every group (${Math.round(r.deliveriesPerSecond)} deliveries/s); a backlog of ${r.n} drained from the daemon's start: ${Math.round(r.drainPerSecond)}/s`,
    );
  }
  const c = await commands();
  record('command.overhead.p50', pct(c.through, 50) - pct(c.direct, 50));
  console.log(`COMMAND round trip, ${c.clients} connections, 1000 sequential GETs against the REST stand-in`);
  console.log(`  through the daemon  p50 ${ms(pct(c.through, 50))}  p99 ${ms(pct(c.through, 99))}`);
  console.log(`  direct              p50 ${ms(pct(c.direct, 50))}  p99 ${ms(pct(c.direct, 99))}`);
  console.log(`  overhead            p50 ${ms(pct(c.through, 50) - pct(c.direct, 50))}  p99 ${ms(pct(c.through, 99) - pct(c.direct, 99))}`);
} finally {
  for (const f of cleanups.reverse()) await f().catch(() => {});
}
