// npm run bench:lag: how long another process's hold on a shared store's write lock holds the daemon up (issue 20).
// One daemon on a throwaway PostgreSQL (loopback), 10 groups acknowledging a backlog of 2,000 notifications each
// while a second session holds the store's write lock for HOLD_MS. Printed: the daemon's status answer time
// (asked every 100 ms over its socket) and its event-loop lag (status --json eventLoopLag) before and during the
// hold, beside the target (100 ms p99). Asserts nothing; bounded in time; cleans up.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startReferenceEndpoint } from '../dist/reference-endpoint.js';
import { postgresAvailable, startPostgres } from '../dist/throwaway-postgres.js';
import { addGroups, bounded, jobLine, runNbwss } from './harness.mjs';
import { BIN } from './seed.mjs';

const GROUPS = 10;
const HOLD_MS = Number(process.env.BENCH_HOLD_MS ?? 3000);
const LIMIT_MS = 120_000;
/** The store's write lock (src/core/store/pg/database.ts WRITE_LOCK_KEY, 'nbwssWRT'). */
const WRITE_LOCK_KEY = 0x6e627773_575254n.toString();
const { cleanups, cleanup, done } = bounded('bench:lag', LIMIT_MS);
const run = runNbwss;

/** One status request over the daemon's socket: its answer and how long it took (ms). */
function ask(home) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const s = connect(join(home, 'daemon.sock'));
    let buf = '';
    const done = (v) => {
      s.destroy();
      resolve({ ms: performance.now() - t0, status: v });
    };
    s.setTimeout(10_000, () => done(undefined));
    s.on('error', () => done(undefined));
    s.on('connect', () => s.write('{"cmd":"status"}\n'));
    s.on('data', (d) => {
      buf += d;
      if (buf.includes('\n')) done(JSON.parse(buf.slice(0, buf.indexOf('\n'))));
    });
  });
}

const p = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? 0;

if (!postgresAvailable()) {
  console.error('bench:lag needs PostgreSQL (Debian postgresql: initdb, pg_ctl)');
  process.exit(1);
}
const root = mkdtempSync(join(tmpdir(), 'nbwss-bench-lag-'));
const server = await startPostgres();
try {
  const url = await server.database();
  const home = join(root, 'host');
  const env = { ...process.env, NBWSS_HOME: home, NBWSS_STORE: url, NBWSS_SECRET_STORE: 'file', NBWSS_SECRET_KEY_FILE: join(root, 'secret.key') };
  const ep = await startReferenceEndpoint({ token: 'bench-token', path: null });
  cleanups.push(() => ep.close());
  await addGroups(env, ep, root, GROUPS);
  const d = spawn(process.execPath, [BIN, 'daemon'], { env, stdio: 'ignore' });
  const exited = new Promise((r) => d.on('exit', r));
  cleanups.push(async () => {
    if (d.exitCode === null) d.kill('SIGTERM');
    await exited;
  });
  while (!(ep.byPath.size === GROUPS && [...ep.byPath.values()].every((s) => s.open === 1))) await new Promise((r) => setTimeout(r, 50));

  const sample = async (ms) => {
    const times = [];
    let last;
    for (const end = performance.now() + ms; performance.now() < end; ) {
      const a = await ask(home);
      times.push(a.ms);
      if (a.status) last = a.status;
      await new Promise((r) => setTimeout(r, 100));
    }
    return { times, lag: last?.eventLoopLag };
  };
  const line = jobLine;
  // Quiet: notifications flowing, nobody else writing.
  await run(env, ['notify'], `${Array.from({ length: 500 }, (_, i) => line(i)).join('\n')}\n`);
  const quiet = await sample(2000);
  // A backlog is being delivered (the daemon writes each acknowledgement) when another session takes the write lock.
  await run(env, ['notify'], `${Array.from({ length: 2000 }, (_, i) => line(10_000 + i)).join('\n')}\n`);
  const holder = new pg.Client({ connectionString: url });
  await holder.connect();
  const hold = (async () => {
    await holder.query('BEGIN');
    await holder.query('SELECT pg_advisory_xact_lock($1::bigint)', [WRITE_LOCK_KEY]);
    await new Promise((r) => setTimeout(r, HOLD_MS));
    await holder.query('COMMIT');
  })();
  const held = await sample(HOLD_MS + 1000);
  await hold;
  await holder.end();
  const after = (await ask(home)).status?.eventLoopLag;
  const fmt = (t) => `status answered p50 ${p(t, 0.5).toFixed(0)} ms, p99 ${p(t, 0.99).toFixed(0)} ms, worst ${Math.max(...t).toFixed(0)} ms`;
  console.log(`quiet:                          ${fmt(quiet.times)}; event-loop lag p99 ${quiet.lag?.p99Ms} ms, worst ${quiet.lag?.maxMs} ms`);
  console.log(`write lock held ${HOLD_MS} ms elsewhere: ${fmt(held.times)}; event-loop lag worst ${after?.maxMs} ms`);
  console.log('target (issue 20): event-loop lag under 100 ms p99, status in under 500 ms throughout');
} finally {
  await cleanup();
  server.stop();
  rmSync(root, { recursive: true, force: true });
  done();
}
