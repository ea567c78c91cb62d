// Seed a store with N endpoints for the benchmarks and the tests that need many,
// through the store's own API, so seeding needs no network.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { generate } from 'selfsigned';

export const BIN = fileURLToPath(new URL('../bin/nbwss.cjs', import.meta.url));

export async function seedStore(home, n, env = {}) {
  // Any changing command opens (creates and migrates) the store; on an empty one this exits 7.
  const r = spawnSync(process.execPath, [BIN, 'deactivate', 'nothing.bench.test', '--home', home], { env: { ...process.env, ...env } });
  if (r.status !== 7) throw new Error(`nbwss could not create the store: ${r.stderr}`);
  const { cert } = await generate([{ name: 'commonName', value: 'bench.test' }], { keyType: 'ec', curve: 'P-256' });
  // Through the store's own API (dist/store-seed.cjs, built by npm run build): no schema repeated here.
  const { seedEntries } = createRequire(import.meta.url)('../dist/store-seed.cjs');
  seedEntries(home, n, cert);
}
