// What the benchmarks that run nbwss as processes share: a bound on their time, cleanups run once at the end (or
// at the bound), and one nbwss command run to completion.
import { spawn } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN } from './seed.mjs';

/** A benchmark bounded in time: `cleanups` run in reverse at `cleanup()`, or when the bound is hit (then exit 1). */
export function bounded(name, limitMs) {
  const cleanups = [];
  const cleanup = async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  };
  const deadline = setTimeout(() => {
    console.error(`${name}: not done within ${limitMs / 1000} s`);
    void cleanup().then(() => process.exit(1));
  }, limitMs);
  return { cleanups, cleanup, done: () => clearTimeout(deadline) };
}

/** `nbwss ARGS` with this environment and stdin; resolves with its stdout, rejects with the end of its stderr. */
export function runNbwss(env, args, input) {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.stdin.end(input ?? '');
    c.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`nbwss ${args[0]} exited ${code}: ${err.slice(-500)}`))));
  });
}

/** A JOB notification of the guide's shape, as one JSON line for `nbwss notify`. */
export const jobLine = (i) =>
  JSON.stringify({
    object: 'JOB',
    data: {
      jobId: i,
      parentJobId: i,
      jobType: 'BACKUP',
      state: 'DONE',
      status: 0,
      startTime: 1459829674,
      policyName: 'p',
      policyType: 'VMWARE',
      scheduleType: 'ST_FULL',
      clientName: 'c',
    },
  });

/** `groups` server groups of one endpoint each, all on the reference endpoint `ep` (path /gN), added with its fingerprint. */
export async function addGroups(env, ep, root, groups) {
  const entries = Array.from({ length: groups }, (_, g) => ({
    token: 'bench-token',
    priority: 1,
    groupId: `group${g}`,
    hostName: `g${g}.bench.test`,
    url: `${ep.url.replace(/\/nbwss$/, '')}/g${g}`,
  }));
  const file = join(root, 'endpoints.json');
  writeFileSync(file, JSON.stringify(entries), { mode: 0o600 });
  await runNbwss(env, ['add', '--file', file, '--fingerprint', ep.fingerprint, '--timeout', '120000']);
}

/**
 * One figure for `npm run bench:all`: appended as a JSON line to the file $BENCH_RESULTS names, when it is set
 * (each benchmark prints its own lines as well, for when it runs alone).
 */
export function record(figure, value) {
  if (process.env.BENCH_RESULTS) appendFileSync(process.env.BENCH_RESULTS, `${JSON.stringify({ figure, value })}\n`);
}
