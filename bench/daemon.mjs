// npm run bench:daemon: the daemon at scale, on loopback only. 500 groups with
// 2 endpoints each (priority 1 on one local wss server, priority 2 on
// another). Prints: seconds from start until all 500 groups are CONNECTED,
// the daemon's RSS, and the seconds to fail over all 500 groups when their
// priority-1 endpoints drop. Asserts nothing; bounded in time; cleans up.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { startReferenceEndpoint } from '../dist/reference-endpoint.js';
import { record } from './harness.mjs';
import { BIN } from './seed.mjs';

const GROUPS = Number(process.env.BENCH_GROUPS ?? 500);
const LIMIT_MS = Number(process.env.BENCH_LIMIT_MS ?? 120_000);
const root = mkdtempSync(join(tmpdir(), 'nbwss-bench-daemon-'));
const env = { ...process.env, NBWSS_HOME: join(root, 'store'), NBWSS_SECRET_STORE: 'file', NBWSS_SECRET_KEY_FILE: join(root, 'secret.key') };
const a = await startReferenceEndpoint({ token: 'bench-token', path: null });
const b = await startReferenceEndpoint({ token: 'bench-token', path: null });
let daemon;

/** CPU seconds (user + system) in a /proc stat file, of a process or of one of its threads (clock ticks of 1/100 s on Linux). */
const cpuSecondsIn = (statFile) => {
  const fields = readFileSync(statFile, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
/** CPU seconds a process has used. */
const cpuSeconds = (pid) => cpuSecondsIn(`/proc/${pid}/stat`);
/** CPU seconds of a process's main thread (JavaScript, TLS) and of its other threads together (V8's GC helpers, libuv's pool). */
const cpuByThread = (pid) => {
  const by = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const name = tid === String(pid) ? 'main thread' : 'other threads';
    try {
      by[name] = (by[name] ?? 0) + cpuSecondsIn(`/proc/${pid}/task/${tid}/stat`);
    } catch {
      /* the thread ended */
    }
  }
  return by;
};
/** CPU seconds this process (both endpoint servers, and reading the daemon's log) has used. */
const ownCpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

const run = (args, input) =>
  new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d) => (err += d));
    c.stdin.end(input);
    c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`nbwss ${args[0]} exited ${code}: ${err.slice(-500)}`))));
  });

try {
  const entries = [];
  for (let g = 0; g < GROUPS; g++) {
    entries.push({ token: 'bench-token', priority: 1, groupId: `group${g}`, hostName: `g${g}-p1.bench.test`, url: `${a.url.replace(/\/nbwss$/, '')}/g${g}` });
    entries.push({ token: 'bench-token', priority: 2, groupId: `group${g}`, hostName: `g${g}-p2.bench.test`, url: `${b.url.replace(/\/nbwss$/, '')}/g${g}` });
  }
  // add takes at most 1,000 endpoints per document: 500 groups per add.
  const file = join(root, 'endpoints.json');
  const tAdd = performance.now();
  for (let at = 0; at < entries.length; at += 1000) {
    writeFileSync(file, JSON.stringify(entries.slice(at, at + 1000)), { mode: 0o600 });
    await run(['add', '--file', file, '--fingerprint', a.fingerprint, '--fingerprint', b.fingerprint, '--timeout', '60000']);
  }
  if (process.env.BENCH_DEBUG) console.error(`added ${entries.length} entries in ${((performance.now() - tAdd) / 1000).toFixed(1)} s`);
  await run(['config', 'set', 'connectionInfo.period', '60']);
  // Metrics on a free loopback port, to time a scrape at this scale.
  const metricsPort = await new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
  await run(['config', 'set', 'metrics.listen', `127.0.0.1:${metricsPort}`]);

  // The host each group is connected to now (a group may fall back to priority 2 if priority 1 times out under load).
  const connectedTo = new Map();
  let onConnected = () => {};
  const t0 = performance.now();
  const own0 = ownCpuSeconds();
  // BENCH_PROFILE=DIR: a V8 CPU profile of the daemon into DIR (open it in Chrome's DevTools).
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  daemon = spawn(process.execPath, [...profile, BIN, 'daemon', '--log-stderr'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  createInterface({ input: daemon.stderr }).on('line', (line) => {
    try {
      const l = JSON.parse(line);
      if (process.env.BENCH_DEBUG) console.error(line.slice(0, 300));
      if (l.msg === 'connected') {
        connectedTo.set(l.group, l.host);
        onConnected(l.host);
      }
    } catch {
      /* not a log line */
    }
  });
  const until = (pred, what) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${what}: not within ${LIMIT_MS / 1000} s`)), LIMIT_MS);
      const check = () => {
        if (!pred()) return;
        clearTimeout(timer);
        resolve();
      };
      onConnected = check;
      check();
    });
  await until(() => connectedTo.size === GROUPS, 'all groups connected');
  const onPriority2 = () => [...connectedTo.values()].filter((h) => h.endsWith('-p2.bench.test')).length;
  const fellBack = onPriority2();
  const connectSeconds = (performance.now() - t0) / 1000;
  const connectCpu = { daemon: cpuSeconds(daemon.pid), endpoints: ownCpuSeconds() - own0 };
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${daemon.pid}/status`, 'utf8'))?.[1] ?? NaN);
  // One scrape of /metrics with every group connected: the median of 21.
  const scrapes = [];
  let scrapeBytes = 0;
  for (let i = 0; i < 21; i++) {
    const t = performance.now();
    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    scrapeBytes = (await res.text()).length;
    scrapes.push(performance.now() - t);
  }
  scrapes.sort((x, y) => x - y);

  const t1 = performance.now();
  const cpu1 = { daemon: cpuSeconds(daemon.pid), endpoints: ownCpuSeconds() };
  await a.close(); // every priority-1 endpoint drops at once
  await until(() => onPriority2() === GROUPS, 'all groups failed over');
  const failoverSeconds = (performance.now() - t1) / 1000;
  const failoverCpu = { daemon: cpuSeconds(daemon.pid) - cpu1.daemon, endpoints: ownCpuSeconds() - cpu1.endpoints };
  // Where the time went: on a 2-core machine the endpoints (this process: TLS handshakes, WebSocket upgrades,
  // the daemon's log read back) compete with the daemon; a daemon well under the wall time is waiting, not working.
  const cpu = (c) => `daemon CPU ${c.daemon.toFixed(1)} s, endpoints' CPU ${c.endpoints.toFixed(1)} s`;

  record(`daemon.connect.${GROUPS}`, connectSeconds);
  record(`daemon.rss.${GROUPS}`, rssKb / 1024);
  record(`daemon.scrape.${GROUPS}`, scrapes[10]);
  record(`daemon.failover.${GROUPS}`, failoverSeconds);
  console.log(`daemon, ${GROUPS} groups x 2 endpoints on loopback`);
  console.log(
    `  start until all ${GROUPS} groups CONNECTED   ${connectSeconds.toFixed(2)} s (${cpu(connectCpu)})${fellBack ? ` (${fellBack} on priority 2: priority 1 did not answer in time)` : ''}`,
  );
  console.log(`  daemon RSS with ${GROUPS} connections        ${(rssKb / 1024).toFixed(1)} MiB`);
  console.log(`  one /metrics scrape (median of 21)         ${scrapes[10].toFixed(1)} ms (${Math.round(scrapeBytes / 1024)} KiB)`);
  console.log(`  fail over ${GROUPS} groups (priority 1 drops) ${failoverSeconds.toFixed(2)} s (${cpu(failoverCpu)})`);
  const threads = Object.entries(cpuByThread(daemon.pid)).sort((x, y) => y[1] - x[1]);
  console.log(`  daemon CPU by thread over the run: ${threads.map(([name, s]) => `${name} ${s.toFixed(1)} s`).join(', ')}`);
} finally {
  if (daemon && daemon.exitCode === null) {
    const exited = new Promise((r) => daemon.on('exit', r));
    daemon.kill('SIGTERM');
    await exited;
  }
  await Promise.allSettled([a.close(), b.close()]);
  rmSync(root, { recursive: true, force: true });
}
