// Bundle the CLI with esbuild: one entry, lazily loaded chunks for what only
// some commands need, native modules left to node_modules.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: { cli: 'src/cli/main.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.18',
  external: ['better-sqlite3', '@napi-rs/keyring'],
  define: { NBWSS_VERSION: JSON.stringify(pkg.version) },
  // Bundled CommonJS dependencies call require(): give them one.
  banner: { js: "import { createRequire as __nbwssCreateRequire } from 'node:module'; const require = __nbwssCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
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
