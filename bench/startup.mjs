// npm run bench: start-up figures for the commands scripts and completions
// run most. Each command runs as a whole process, interleaved with
// `node -e 0` on the same machine; medians and ratios are printed. Nothing is
// asserted: these are figures to watch, not a test.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { record } from './harness.mjs';
import { BIN, seedStore } from './seed.mjs';

const FLOOR = fileURLToPath(new URL('./floor.cjs', import.meta.url));

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const root = mkdtempSync(join(tmpdir(), 'nbwss-bench-'));
const home = join(root, 'store');
await seedStore(home, 1000);

const cases = [
  ['node -e 0', ['-e', '0']],
  ['nbwss --version', [BIN, '--version']],
  ['nbwss list (1,000 entries)', [BIN, 'list', '--home', home]],
  ['nbwss list --json (1,000)', [BIN, 'list', '--json', '--home', home]],
  ['nbwss list --names (1,000)', [BIN, 'list', '--names', '--home', home]],
  // What no nbwss can go below: reading and printing the same 1,000 entries with nothing of nbwss (bench/floor.cjs).
  ['floor: the same, no nbwss', [FLOOR, home]],
  ['floor: the same as JSON, no nbwss', [FLOOR, home, 'json']],
];
const times = cases.map(() => []);
const env = { ...process.env, NO_COLOR: '1' };
for (let i = 0; i < RUNS + 2; i++) {
  cases.forEach(([, args], k) => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const dt = performance.now() - t0;
    if (r.status !== 0) throw new Error(`${cases[k][0]} exited ${r.status}: ${r.stderr}`);
    if (i >= 2) times[k].push(dt); // two warm-up rounds
  });
}
rmSync(root, { recursive: true, force: true });

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const base = median(times[0]);
record('startup.node.ms', base);
console.log(`start-up, ${RUNS} interleaved runs each, median wall time (min-max); ratio to node -e 0`);
for (const [k, [name]] of cases.entries()) {
  const m = median(times[k]);
  record(`startup.${['node', 'version', 'list', 'list-json', 'list-names', 'floor', 'floor-json'][k]}`, m / base);
  console.log(
    `  ${name.padEnd(34)} ${m.toFixed(1).padStart(7)} ms  (${Math.min(...times[k]).toFixed(1)}-${Math.max(...times[k]).toFixed(1)})  ${(m / base).toFixed(2)}x`,
  );
}
console.log('targets: --version and list of 1,000 entries within 1.25x; list --json of 1,000 within 1.2x (the floors: no target, for reference)');
