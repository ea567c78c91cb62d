// npm run bench:all: every figure the README's performance table holds, measured in one run on this machine and
// printed beside its target; `npm run bench:all -- --readme` also writes the table into README.md (between its
// bench:all markers), so the table is regenerated, never typed. Asserts nothing.
//
// BENCH_ALL_GROUPS: the daemon's group counts (default 500,2000; 10000 works too, and takes minutes and ~1 GiB).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';

const here = new URL('.', import.meta.url).pathname;
const README = new URL('../README.md', import.meta.url);
const GROUPS = (process.env.BENCH_ALL_GROUPS ?? '500,2000').split(',').map(Number);
const dir = mkdtempSync(join(tmpdir(), 'nbwss-bench-all-'));
const results = join(dir, 'results.jsonl');

const runs = [
  ['startup.mjs', {}],
  ...GROUPS.map((g) => ['daemon.mjs', { BENCH_GROUPS: String(g), BENCH_LIMIT_MS: String(Math.max(120_000, g * 60)) }]),
  ['notify.mjs', {}],
];
try {
  for (const [script, env] of runs) {
    console.error(
      `bench:all: ${script} ${Object.entries(env)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}`,
    );
    const r = spawnSync(process.execPath, [join(here, script)], {
      env: { ...process.env, ...env, BENCH_RESULTS: results },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (r.status !== 0) throw new Error(`${script} exited ${r.status}`);
  }
  const figures = new Map(
    readFileSync(results, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .map((f) => [f.figure, f.value]),
  );
  const table = render(figures);
  console.log(`\n${table}`);
  if (process.argv.includes('--readme')) {
    const text = readFileSync(README, 'utf8');
    const begin = '<!-- bench:all begin -->';
    const end = '<!-- bench:all end -->';
    const at = text.indexOf(begin);
    const to = text.indexOf(end);
    if (at === -1 || to < at) throw new Error(`README.md has no ${begin} … ${end} section`);
    writeFileSync(README, `${text.slice(0, at + begin.length)}\n${table}\n${text.slice(to)}`);
    console.error('bench:all: README.md table written');
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

function render(f) {
  const get = (k) => f.get(k);
  const n = (x, digits = 1) => (x === undefined ? 'not measured' : x.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
  const rows = [];
  const row = (figure, now, target) => rows.push(`| ${figure} | ${now} | ${target} |`);
  for (const g of GROUPS) {
    row(`daemon: start until all ${g.toLocaleString('en')} groups CONNECTED`, `${n(get(`daemon.connect.${g}`), 2)} s`, g === 2000 ? '< 5 s' : '');
  }
  const [small, big] = [GROUPS[0], GROUPS[1]];
  if (big) {
    const growth = get(`daemon.connect.${big}`) / get(`daemon.connect.${small}`);
    const perDoubling = growth ** (1 / Math.log2(big / small));
    row(`daemon: start, cost per doubling of the groups (${small.toLocaleString('en')} → ${big.toLocaleString('en')})`, `${perDoubling.toFixed(2)}×`, '≤ 2.2×');
  }
  for (const g of GROUPS)
    row(`daemon: fail over all ${g.toLocaleString('en')} groups (priority 1 drops)`, `${n(get(`daemon.failover.${g}`), 2)} s`, g === 2000 ? '< 5 s' : '');
  for (const g of GROUPS) row(`daemon RSS, ${g.toLocaleString('en')} connections`, `${n(get(`daemon.rss.${g}`), 0)} MiB`, g === 2000 ? '< 250 MiB' : '');
  for (const g of GROUPS) row(`one /metrics scrape, ${g.toLocaleString('en')} groups`, `${n(get(`daemon.scrape.${g}`))} ms`, g === 2000 ? '< 40 ms' : '');
  // The ratios' baseline, so that a reader sees how quickly this machine started Node that day.
  row('`node -e 0` itself (the baseline of the ratios below)', `${n(get('startup.node.ms'))} ms`, '');
  row('`nbwss --version` / `node -e 0`', `${n(get('startup.version'), 2)}×`, '≤ 1.25×');
  row('`nbwss list` of 1,000 entries / `node -e 0`', `${n(get('startup.list'), 2)}×`, '≤ 1.25×');
  row('`nbwss list --json` of 1,000 / `node -e 0`', `${n(get('startup.list-json'), 2)}×`, '≤ 1.2×');
  row(
    'the floor: the same 1,000 read and printed by a program with nothing of nbwss (`bench/floor.cjs`) / `node -e 0`',
    `${n(get('startup.floor'), 2)}× (JSON ${n(get('startup.floor-json'), 2)}×)`,
    'for reference',
  );
  const p50 = { 1: '< 5 ms', 10: '< 8 ms', 100: '< 20 ms' };
  for (const g of [1, 10, 100]) row(`notify→ack p50, ${g} group${g === 1 ? '' : 's'}`, `${n(get(`notify.p50.${g}`))} ms`, p50[g]);
  row('backlog drained, 10 groups (notifications/s acknowledged by every group)', n(get('notify.drain.10'), 0), '≥ 10,000/s');
  row('queued while delivering, 10 groups (/s)', n(get('notify.queued.10'), 0), '≥ 8,000/s');
  row('COMMAND overhead over a direct call, p50', `${n(get('command.overhead.p50'), 2)} ms`, '< 1 ms');
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}`;
  return [
    `Measured ${new Date().toISOString().slice(0, 10)} by \`npm run bench:all\` on ${machine}:`,
    '',
    '| figure | measured | target |',
    '|---|---|---|',
    ...rows,
  ].join('\n');
}
