import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { FileSecretStore } from '../../src/core/secrets/file.js';
import type { Home } from './cli.js';

/** What the store holds, read directly from the SQLite file (not through the CLI). */
export function storeRows(home: Home): { host_name: string; state: string; fingerprint: string }[] {
  const path = join(home.dir, 'nbwss.db');
  if (!existsSync(path)) return [];
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT host_name, state, fingerprint FROM endpoints ORDER BY host_name').all() as never;
  } finally {
    db.close();
  }
}

export function integrityOk(home: Home): boolean {
  const db = new Database(join(home.dir, 'nbwss.db'));
  try {
    return db.pragma('integrity_check', { simple: true }) === 'ok';
  } finally {
    db.close();
  }
}

/** The tokens in the file secret store, decrypted with the real key file. */
export function fileTokens(home: Home): Record<string, string> {
  const s = new FileSecretStore(home.dir, home.keyFile);
  return Object.fromEntries(s.accounts().map((a) => [a, s.get(a)!]));
}

/** Every byte the store directory holds, to search for a secret. */
export function storeBytes(home: Home): Buffer {
  const parts: Buffer[] = [];
  for (const f of ['nbwss.db', 'nbwss.db-wal', 'nbwss.db-shm', 'secrets.enc']) {
    const p = join(home.dir, f);
    if (existsSync(p)) parts.push(readFileSync(p));
  }
  return Buffer.concat(parts);
}
