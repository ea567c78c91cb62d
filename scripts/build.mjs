// Bundle the CLI with esbuild (dist/cli.cjs) and the reference endpoint used
// by the tests and the demo (dist/reference-endpoint.js).
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
// commander requires child_process at load time for executable subcommands,
// which nbwss does not use; loading it pulls in net and dgram on every start.
const noChildProcessForCommander = {
  name: 'no-child-process-for-commander',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      args.importer.includes('/node_modules/commander/') ? { path: 'child_process-stub', namespace: 'stub' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
      contents: 'const no = () => { throw new Error("nbwss has no executable subcommands"); }; module.exports = { spawn: no, execFileSync: no };',
      loader: 'js',
    }));
  },
};

// One CommonJS file for the CLI: Node 20 starts a require() graph faster
// than an ESM one, and our own modules behind import() still run only when a
// command needs them (esbuild wraps them lazily). The heavy packages that only
// some commands use stay in node_modules and load on demand.
await build({
  entryPoints: { cli: 'src/cli/main.ts' },
  plugins: [noChildProcessForCommander],
  outfile: 'dist/cli.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20.18',
  // better-sqlite3's JavaScript is bundled; its native addon is loaded by path (src/core/store/sqlite.ts).
  external: ['@napi-rs/keyring', 'bindings', 'undici', '@inquirer/prompts', 'ws', 'pino', 'prom-client', 'pg'],
  // Less to parse at every start (completions run nbwss on each TAB); names kept for error classes.
  minify: true,
  keepNames: true,
  define: { NBWSS_VERSION: JSON.stringify(pkg.version), 'import.meta.url': '__nbwssFileUrl' },
  banner: { js: "const __nbwssFileUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
// The bundle's last line names the hash of its contents: bin/nbwss.cjs uses
// the code cache only when the cache starts with the same line (validity by
// content, not by mtime, which npm does not keep).
{
  const bundle = readFileSync(new URL('../dist/cli.cjs', import.meta.url));
  const id = createHash('sha256').update(bundle).digest('hex').slice(0, 32);
  writeFileSync(new URL('../dist/cli.cjs', import.meta.url), `${bundle.toString('utf8').trimEnd()}\n//# nbwss-build=${id}\n`);
}
// The man page, from the same command definitions as the completions.
{
  const { outputFiles } = await build({
    entryPoints: ['src/cli/docs.ts'],
    plugins: [noChildProcessForCommander],
    write: false,
    outfile: 'docs.cjs',
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20.18',
    external: ['@napi-rs/keyring', 'bindings', 'undici', '@inquirer/prompts', 'ws', 'pino', 'better-sqlite3', 'pg'],
    define: { NBWSS_VERSION: JSON.stringify(pkg.version), 'import.meta.url': '__nbwssFileUrl' },
    banner: { js: "const __nbwssFileUrl = require('node:url').pathToFileURL(__filename).href;" },
    logLevel: 'warning',
  });
  const mod = { exports: {} };
  new Function('module', 'exports', 'require', '__filename', outputFiles[0].text)(
    mod,
    mod.exports,
    createRequire(import.meta.url),
    fileURLToPath(new URL('../dist/docs.cjs', import.meta.url)),
  );
  writeFileSync(new URL('../dist/nbwss.1', import.meta.url), mod.exports.generatedDocs().man);
}
writeFileSync(new URL('../dist/version.cjs', import.meta.url), `module.exports = ${JSON.stringify(pkg.version)};\n`);
// V8's code cache for the bundle, made by running a common command once (bin/nbwss.cjs uses it when it fits).
{
  const { spawnSync } = await import('node:child_process');
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const tmp = mkdtempSync(join(tmpdir(), 'nbwss-build-'));
  const bin = new URL('../bin/nbwss.cjs', import.meta.url).pathname;
  const home = join(tmp, 'store');
  // A store to read (a changing command creates it; on an empty store it exits 7), so the cache covers opening and listing it.
  spawnSync(process.execPath, [bin, 'deactivate', 'nothing.build.test', '--home', home], { env: { ...process.env, NBWSS_SECRET_STORE: 'file' } });
  const r = spawnSync(process.execPath, [bin, 'list', '--json', '--home', home], { env: { ...process.env, NBWSS_WRITE_CODE_CACHE: '1' }, encoding: 'utf8' });
  rmSync(tmp, { recursive: true, force: true });
  if (r.status !== 0) console.warn(`warning: no code cache made (nbwss list exited ${r.status}): ${r.stderr}`);
  // Written under the CLI's umask (077); every user of an installed nbwss may read it.
  else chmodSync(new URL('../dist/cli.cjs.cache', import.meta.url), 0o644);
}
// Seeding a store through its API, for the benchmarks and tests (not part of the package).
await build({
  entryPoints: { 'store-seed': 'bench/src/store-seed.ts' },
  outfile: 'dist/store-seed.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20.18',
  external: ['bindings'],
  define: { 'import.meta.url': '__nbwssFileUrl' },
  banner: { js: "const __nbwssFileUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
// nbwss lab: the reference endpoint, the primary stand-in and the demo, for any installed copy (the package
// ships dist/lab/). Self-contained but for ws (a dependency of nbwss itself).
await build({
  entryPoints: { endpoint: 'src/reference-endpoint/cli.ts', primary: 'src/reference-endpoint/primary-cli.ts', demo: 'src/lab/demo.mjs' },
  outdir: 'dist/lab',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.18',
  external: ['ws', 'bufferutil', 'utf-8-validate'],
  banner: { js: "import { createRequire as __nbwssCreateRequire } from 'node:module'; const require = __nbwssCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
// The reference endpoint (tests, benchmarks): not part of the CLI.
await build({
  entryPoints: {
    'reference-endpoint': 'src/reference-endpoint/index.ts',
    'reference-endpoint-cli': 'src/reference-endpoint/cli.ts',
    'netbackup-api': 'src/reference-endpoint/netbackup-api.ts',
    scenario: 'src/reference-endpoint/scenario.ts',
    'throwaway-postgres': 'src/reference-endpoint/postgres.ts',
  },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.18',
  external: ['ws', 'bufferutil', 'utf-8-validate', 'pg'],
  banner: { js: "import { createRequire as __nbwssCreateRequire } from 'node:module'; const require = __nbwssCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
