import type { SecretsTable } from '../secrets/db.js';
import type { SqlDatabase } from './sql.js';

/** A daemon of a shared store as it last recorded itself (its heartbeat row). */
export interface SharedDaemon {
  id: string;
  host: string;
  pid: number;
  startedAt: string;
  heartbeatAt: string;
  groups: string[];
  poller: boolean;
  keyOk: boolean | null;
}

function parseGroups(json: string): string[] {
  try {
    const groups = JSON.parse(json) as unknown;
    return Array.isArray(groups) ? groups.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * What only a shared (PostgreSQL) store holds, read through its one
 * database: the daemons serving it and the tokens sealed in it. A SQLite
 * store has none of it (EndpointStore.shared is undefined there).
 */
export class SharedTables {
  constructor(private readonly db: SqlDatabase) {}

  /** The daemons of the store as they last recorded themselves (doctor, status from any host). */
  daemons(): SharedDaemon[] {
    const rows = this.db
      .prepare('SELECT id, host, pid, started_at AS startedAt, heartbeat_at AS heartbeatAt, groups, poller, key_ok AS keyOk FROM daemons ORDER BY host, pid')
      .all() as (Omit<SharedDaemon, 'heartbeatAt' | 'groups'> & { heartbeatAt: unknown; groups: string })[];
    return rows.map((d) => ({ ...d, heartbeatAt: new Date(d.heartbeatAt as string).toISOString(), groups: parseGroups(d.groups) }));
  }

  /** The (sealed) tokens, one row per account: the table the database secret store keeps them in. */
  readonly secrets: SecretsTable = {
    getSealed: (a) => (this.db.prepare('SELECT sealed FROM secrets WHERE account = ?').get(a) as { sealed: string } | undefined)?.sealed,
    setSealed: (a, v) =>
      void this.db.prepare('INSERT INTO secrets (account, sealed) VALUES (?, ?) ON CONFLICT (account) DO UPDATE SET sealed = excluded.sealed').run(a, v),
    deleteSealed: (a) => this.db.prepare('DELETE FROM secrets WHERE account = ?').run(a).changes === 1,
    sealedAccounts: () => (this.db.prepare('SELECT account FROM secrets ORDER BY account').all() as { account: string }[]).map((r) => r.account),
  };
}
