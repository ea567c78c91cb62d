import { API_ACCOUNTS } from '../api/auth.js';
import { NbwssError } from '../errors.js';
import { accountFor, type SecretStore } from '../secrets/index.js';
import { COPY_TABLES, type CopyTable, type EndpointStore } from '../store/db.js';

/** Meta keys that belong to a store itself, not to what it holds: the target keeps its own. */
const OWN_META = new Set(['store_id', 'secret_store']);

export interface CopyResult {
  rows: Record<CopyTable, number>;
  /** Notifications pending, counted once per group that waits for them. */
  pending: number;
  tokens: number;
}

/**
 * Copy a store into an empty one (SQLite ↔ PostgreSQL): every entry, pin,
 * notification (pending and in flight), statistic and poll state, in one
 * transaction of the target; every token and REST API credential read from
 * the source's secret store and written to the target's (sealed again with
 * its key). Then read back and compared: row counts and every secret.
 */
export function copyStore(src: EndpointStore, srcSecrets: SecretStore, dst: EndpointStore, dstSecrets: SecretStore): CopyResult {
  if (dst.endpoints.list().length > 0 || dst.outbox.pendingGroups().length > 0)
    throw new NbwssError('EXISTS', 'The target store is not empty: nbwss store copy writes only into a new store', {
      hint: 'Give an empty database or directory as --to.',
    });
  const data = new Map<CopyTable, Record<string, unknown>[]>();
  for (const t of COPY_TABLES)
    data.set(
      t,
      src.exportTable(t).filter((r) => t !== 'meta' || !OWN_META.has(String(r.key))),
    );
  const accounts = [...src.endpoints.list().map((r) => accountFor(r.hostName)), ...API_ACCOUNTS];
  const secrets = new Map<string, string>();
  for (const a of accounts) {
    const value = srcSecrets.get(a);
    if (value !== undefined) secrets.set(a, value);
  }
  dst.write(() => {
    dst.recordSecretBackend(dstSecrets.name);
    for (const t of COPY_TABLES) dst.importTable(t, data.get(t)!);
    dstSecrets.putAll(secrets);
    // Nothing serves the copy yet: no entry of it is CONNECTED, whatever the source's daemon was doing.
    dst.endpoints.resetConnections(new Date().toISOString());
  });
  // Verified as read back from the target.
  const rows = {} as Record<CopyTable, number>;
  for (const t of COPY_TABLES) {
    const copied = dst.exportTable(t).filter((r) => t !== 'meta' || !OWN_META.has(String(r.key))).length;
    if (copied !== data.get(t)!.length) throw new NbwssError('STORE', `The copy of ${t} holds ${copied} rows, the source ${data.get(t)!.length}`);
    rows[t] = copied;
  }
  for (const [a, v] of secrets) if (dstSecrets.get(a) !== v) throw new NbwssError('STORE', `The copied secret of ${a} does not read back as it was`);
  const pending = dst.outbox.groups().reduce((sum, g) => sum + g.pending, 0);
  return { rows, pending, tokens: secrets.size };
}
