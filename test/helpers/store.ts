import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DbSecretStore } from '../../src/core/secrets/db.js';
import { FileSecretStore } from '../../src/core/secrets/file.js';
import { COPY_TABLES, EndpointStore } from '../../src/core/store/db.js';
import type { Home } from './cli.js';

/** A home whose store is shared (PostgreSQL, vitest.pg.config.ts): read through the store's own backend. */
function withShared<T>(home: Home, fn: (store: EndpointStore) => T): T | undefined {
  const url = home.env.NBWSS_STORE;
  if (!url) return undefined;
  const store = EndpointStore.open(home.dir, { url });
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

/** What the store holds, read directly from the SQLite file (not through the CLI). */
export function storeRows(home: Home): { host_name: string; state: string; fingerprint: string }[] {
  const shared = withShared(home, (st) =>
    st
      .exportTable('endpoints')
      .map((r) => ({ host_name: String(r.host_name), state: String(r.state), fingerprint: String(r.fingerprint) }))
      .sort((a, b) => (a.host_name < b.host_name ? -1 : 1)),
  );
  if (shared) return shared;
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
  if (home.env.NBWSS_STORE) return true; // PostgreSQL keeps its own
  const db = new Database(join(home.dir, 'nbwss.db'));
  try {
    return db.pragma('integrity_check', { simple: true }) === 'ok';
  } finally {
    db.close();
  }
}

/** The tokens in the file secret store, decrypted with the real key file. */
export function fileTokens(home: Home): Record<string, string> {
  const shared = withShared(home, (st) => {
    const d = new DbSecretStore(st.shared!.secrets, new FileSecretStore(home.dir, home.keyFile), home.keyFile);
    return Object.fromEntries(d.accounts().map((a) => [a, d.get(a)!]));
  });
  if (shared) return shared;
  const s = new FileSecretStore(home.dir, home.keyFile);
  return Object.fromEntries(s.accounts().map((a) => [a, s.get(a)!]));
}

/** Every byte the store directory holds, to search for a secret. */
export function storeBytes(home: Home): Buffer {
  const parts: Buffer[] = [];
  // A shared store: every row of every table (and the sealed secrets) as text.
  withShared(home, (st) => {
    for (const t of COPY_TABLES) parts.push(Buffer.from(JSON.stringify(st.exportTable(t))));
    const sec = st.shared!.secrets;
    parts.push(Buffer.from(JSON.stringify(sec.sealedAccounts().map((a) => sec.getSealed(a)))));
  });
  for (const f of ['nbwss.db', 'nbwss.db-wal', 'nbwss.db-shm', 'secrets.enc']) {
    const p = join(home.dir, f);
    if (existsSync(p)) parts.push(readFileSync(p));
  }
  return Buffer.concat(parts);
}

/** How many job states and watched images the poller keeps, read from the store. */
export function pollCounts(home: Home): { jobs: number; images: number } {
  const shared = withShared(home, (st) => st.poll.counts());
  if (shared) return shared;
  const db = new Database(join(home.dir, 'nbwss.db'), { readonly: true, fileMustExist: true });
  try {
    const count = (t: string) => (db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
    return { jobs: count('poll_jobs'), images: count('poll_images') };
  } finally {
    db.close();
  }
}

/** Another process's write transaction on the same SQLite store (as nbwss notify holds it), until the returned function is called. */
export function holdWriteLock(store: EndpointStore): () => void {
  const other = new Database(join(store.home, 'nbwss.db'));
  other.exec('BEGIN IMMEDIATE');
  return () => {
    other.exec('COMMIT');
    other.close();
  };
}
