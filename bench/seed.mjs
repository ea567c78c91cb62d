// Seed a store with N endpoints for the benchmarks, straight into SQLite with
// the CLI's own schema (the CLI creates it), so seeding needs no network.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { generate } from 'selfsigned';

export const BIN = fileURLToPath(new URL('../bin/nbwss.cjs', import.meta.url));

export async function seedStore(home, n, env = {}) {
  // Any changing command opens (creates and migrates) the store; on an empty one this exits 7.
  const r = spawnSync(process.execPath, [BIN, 'deactivate', 'nothing.bench.test', '--home', home], { env: { ...process.env, ...env } });
  if (r.status !== 7) throw new Error(`nbwss could not create the store: ${r.stderr}`);
  const { cert } = await generate([{ name: 'commonName', value: 'bench.test' }], { keyType: 'ec', curve: 'P-256' });
  const db = new Database(join(home, 'nbwss.db'));
  const now = new Date().toISOString();
  const insert =
    db.prepare(`INSERT INTO endpoints (host_name, url, group_id, priority, state, pin_type, fingerprint, spki_fingerprint, not_after, created_at, updated_at)
    VALUES (?, ?, ?, ?, 'ACTIVATED', 'cert', ?, ?, ?, ?, ?)`);
  const pem = db.prepare('INSERT INTO pinned_certificates (host_name, cert_pem) VALUES (?, ?)');
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const host = `host${String(i).padStart(4, '0')}.bench.test`;
      insert.run(
        host,
        `wss://${host}:8443/nbwss`,
        `group${Math.floor(i / 2)}`,
        (i % 2) + 1,
        `${'AA:'.repeat(31)}AA`,
        `${'BB:'.repeat(31)}BB`,
        '2030-01-01T00:00:00.000Z',
        now,
        now,
      );
      pem.run(host, cert);
    }
  })();
  db.close();
}
