import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type pg from 'pg';

/** The LISTEN/NOTIFY channel of a shared store: 'change' (entries, properties, credentials) or 'notify' (notifications queued). */
export const CHANNEL = 'nbwss';

export function loadPg(): typeof pg {
  return createRequire(import.meta.url)('pg') as typeof pg;
}

/** Tell every daemon of a shared store, at once, that something changed (a CLI write): they reconcile or send. */
export async function announce(url: string, what: 'change' | 'notify'): Promise<void> {
  const client = new (loadPg().Client)({ connectionString: url, connectionTimeoutMillis: 2000, application_name: 'nbwss' });
  try {
    await client.connect();
    await client.query('SELECT pg_notify($1, $2)', [CHANNEL, what]);
  } finally {
    await client.end().catch(() => {});
  }
}

/** A server group's session advisory lock key: 64 bits of SHA-256 of its id, as a signed bigint (text). */
export function groupLockKey(groupId: string): string {
  return createHash('sha256').update(`nbwss-group\0${groupId}`).digest().readBigInt64BE(0).toString();
}

/** The poller's lock: one daemon of a shared store polls the REST API. */
export const POLLER_LOCK_KEY = groupLockKey('\0poller');
