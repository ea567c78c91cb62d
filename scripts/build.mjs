// Bundle the CLI with esbuild: one entry, lazily loaded chunks for what only
// some commands need, native modules left to node_modules.
import { build } from 'esbuild';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';

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

await build({
  entryPoints: { cli: 'src/cli/main.ts' },
  plugins: [noChildProcessForCommander],
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.18',
  // better-sqlite3's JavaScript is bundled; its native addon is loaded by path (src/core/store/sqlite.ts).
  external: ['@napi-rs/keyring', 'bindings'],
  // Less to parse at every start (completions run nbwss on each TAB); names kept for error classes.
  minify: true,
  keepNames: true,
  define: { NBWSS_VERSION: JSON.stringify(pkg.version) },
  // Bundled CommonJS dependencies call require(): give them one.
  banner: { js: "import { createRequire as __nbwssCreateRequire } from 'node:module'; const require = __nbwssCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
writeFileSync(new URL('../dist/version.js', import.meta.url), `export const VERSION = ${JSON.stringify(pkg.version)};\n`);
// The reference endpoint (tests, demo): not part of the CLI.
await build({
  entryPoints: { 'reference-endpoint': 'src/reference-endpoint/index.ts', 'reference-endpoint-cli': 'src/reference-endpoint/cli.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.18',
  external: ['ws', 'bufferutil', 'utf-8-validate'],
  banner: { js: "import { createRequire as __nbwssCreateRequire } from 'node:module'; const require = __nbwssCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
