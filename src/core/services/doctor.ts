import { API_ACCOUNTS } from '../api/auth.js';
import { X509Certificate } from 'node:crypto';
import { existsSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { AUDIT_FILE } from '../audit.js';
import { loadProperties, PROPERTIES_FILE } from '../config/properties.js';
import { NbwssError } from '../errors.js';
import { LOCK_FILE, SECRETS_FILE } from '../secrets/file.js';
import { accountFor, type SecretStore } from '../secrets/index.js';
import { DB_FILE, EndpointStore } from '../store/db.js';
import { chmodPrivate, storeOwnershipProblems } from '../store/fs.js';
import { W } from '../hints.js';
import { canonicalHost } from '../endpoint/host.js';

export type CheckLevel = 'ok' | 'warn' | 'problem';

export interface DoctorCheck {
  name: string;
  status: CheckLevel;
  detail: string;
  /** What to do about it. */
  fix?: string;
  /** Set when --fix changed something. */
  fixed?: string;
}

export interface DoctorOptions {
  home: string;
  /** A shared PostgreSQL store (NBWSS_STORE): checked in the database, not in home. */
  storeUrl?: string;
  /** Opens the secret store in force (may throw STORE). */
  secrets: (store: EndpointStore) => Promise<SecretStore>;
  fix: boolean;
  /** Asked before orphan tokens are removed. */
  confirmRemoveOrphans: (accounts: string[]) => Promise<boolean>;
  expiringDays?: number;
  now?: Date;
}

const FILES = [DB_FILE, `${DB_FILE}-wal`, `${DB_FILE}-shm`, SECRETS_FILE, LOCK_FILE, AUDIT_FILE, PROPERTIES_FILE];

/** Look the store over: each check says what is wrong and what to do; --fix mends what it safely can. */
export async function runDoctor(options: DoctorOptions): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const add = (c: DoctorCheck) => checks.push(c);
  const now = options.now ?? new Date();

  if (options.storeUrl) return sharedDoctor(options, checks, now);
  if (!existsSync(join(options.home, DB_FILE))) {
    add({ name: 'store', status: 'warn', detail: `no store at ${options.home} yet`, fix: `Add an endpoint with: ${W.addFile}` });
    return checks;
  }

  // Ownership (like sshd's StrictModes): the directory, its parents and its files are ours and not writable by others.
  const owned = storeOwnershipProblems(options.home);
  if (owned.length === 0) add({ name: 'ownership', status: 'ok', detail: 'the store directory, its parents and its files belong to you; no links' });
  else add({ name: 'ownership', status: 'problem', detail: owned.map((e) => e.message).join('; '), fix: owned[0]!.hint });

  // Permissions: the directory 0700, its files 0600. --fix tightens only what is ours, through a descriptor.
  const loose: string[] = [];
  const mine = (path: string) => {
    const st = lstatSync(path);
    return !st.isSymbolicLink() && st.uid === (process.geteuid?.() ?? st.uid);
  };
  const mode = (p: string) => lstatSync(p).mode & 0o777;
  if (mine(options.home) && mode(options.home) & 0o077) loose.push(`${options.home} (${mode(options.home).toString(8)})`);
  for (const f of FILES) {
    const path = join(options.home, f);
    if (existsSync(path) && mine(path) && mode(path) & 0o077) loose.push(`${path} (${mode(path).toString(8)})`);
  }
  if (loose.length === 0) add({ name: 'permissions', status: 'ok', detail: 'store directory 0700, files 0600' });
  else if (options.fix) {
    chmodPrivate(options.home, 0o700);
    for (const f of FILES) chmodPrivate(join(options.home, f), 0o600);
    add({ name: 'permissions', status: 'ok', detail: 'store directory 0700, files 0600', fixed: `tightened ${loose.join(', ')}` });
  } else
    add({
      name: 'permissions',
      status: 'problem',
      detail: `readable by others: ${loose.join(', ')}`,
      fix: `Run ${W.doctorFix} (directory 0700, files 0600).`,
    });
  if (owned.length > 0) return checks; // nothing else is read from a store someone else controls

  // A diagnosis changes nothing: without --fix the store is opened read-only.
  let store: EndpointStore;
  try {
    const opened = options.fix ? EndpointStore.open(options.home) : EndpointStore.openExisting(options.home);
    if (!opened) throw new NbwssError('STORE', `no store at ${options.home}`);
    store = opened;
  } catch (e) {
    add({ name: 'store', status: 'problem', detail: (e as Error).message, fix: (e as NbwssError).hint });
    return checks;
  }
  try {
    const integrity = store.integrityCheck();
    add(
      integrity === 'ok'
        ? { name: 'integrity', status: 'ok', detail: 'SQLite integrity check passed' }
        : { name: 'integrity', status: 'problem', detail: `SQLite integrity check: ${String(integrity)}`, fix: 'Restore nbwss.db from a backup.' },
    );
    add({
      name: 'schema',
      status: store.schemaVersion === store.currentSchemaVersion ? 'ok' : 'problem',
      detail: `schema version ${store.schemaVersion} (this nbwss: ${store.currentSchemaVersion})`,
    });
    const pairs = store.endpoints.hostConflicts();
    if (pairs.length === 0) add({ name: 'host names', status: 'ok', detail: 'every entry is one host' });
    else {
      add({
        name: 'host names',
        status: 'problem',
        detail: `entries that are one host under two names (they share one token; the daemon connects to neither): ${pairs.map((p) => p.join(' and ')).join('; ')}`,
        fix: `Delete the one you do not want: ${W.deleteHost(`'${pairs[0]![0]}'`)}, then set the other's token again with ${W.tokenSet(canonicalHost(pairs[0]![0]!))} < token.txt`,
      });
    }

    try {
      loadProperties(options.home);
      add({
        name: 'properties',
        status: 'ok',
        detail: existsSync(join(options.home, PROPERTIES_FILE)) ? `${PROPERTIES_FILE} is valid` : `no ${PROPERTIES_FILE}: the defaults are in force`,
      });
    } catch (e) {
      add({ name: 'properties', status: 'problem', detail: (e as Error).message, fix: (e as NbwssError).hint });
    }

    const records = store.endpoints.list();
    let secrets: SecretStore | undefined;
    try {
      secrets = await options.secrets(store);
      secrets.probe({ create: options.fix });
      add({ name: 'secret store', status: 'ok', detail: `${secrets.name}${store.secretBackend ? '' : ' (not recorded yet: no token written)'} answers` });
    } catch (e) {
      add({ name: 'secret store', status: 'problem', detail: (e as Error).message, fix: (e as NbwssError).hint });
    }

    if (secrets)
      try {
        const missing = records.filter((r) => secrets.get(accountFor(r.hostName)) === undefined).map((r) => r.hostName);
        add(
          missing.length === 0
            ? { name: 'tokens', status: 'ok', detail: `every entry (${records.length}) has its token` }
            : {
                name: 'tokens',
                status: 'problem',
                detail: `no token for: ${missing.join(', ')}`,
                fix: `Store one with: ${W.tokenSet(missing[0]!)} < token.txt`,
              },
        );
        const known = new Set(records.map((r) => accountFor(r.hostName)));
        // The REST API credentials (nbwss api key set / api login) are not a host's.
        const orphans = secrets.accounts().filter((a) => a !== 'nbwss-probe' && !(API_ACCOUNTS as readonly string[]).includes(a) && !known.has(a));
        if (orphans.length === 0) add({ name: 'orphan tokens', status: 'ok', detail: 'no token without an entry' });
        else if (options.fix && (await options.confirmRemoveOrphans(orphans))) {
          const secretStore = secrets;
          store.write(() => {
            for (const a of orphans) if (!store.endpoints.get(a)) secretStore.delete(a);
          });
          add({ name: 'orphan tokens', status: 'ok', detail: 'no token without an entry', fixed: `removed the tokens of ${orphans.join(', ')}` });
        } else
          add({
            name: 'orphan tokens',
            status: 'problem',
            detail: `tokens without an entry: ${orphans.join(', ')}`,
            fix: `Remove them with: ${W.doctorFix}`,
          });
      } catch (e) {
        add({ name: 'tokens', status: 'problem', detail: (e as Error).message, fix: (e as NbwssError).hint });
      }

    const bad: string[] = [];
    const expired: string[] = [];
    const soon: string[] = [];
    const days = options.expiringDays ?? 30;
    for (const r of records) {
      const full = store.endpoints.get(r.hostName);
      try {
        const cert = new X509Certificate(full!.certPem);
        const left = (Date.parse(cert.validTo) - now.getTime()) / 86_400_000;
        if (left <= 0) expired.push(r.hostName);
        else if (left < days) soon.push(`${r.hostName} (${Math.floor(left)} days)`);
      } catch {
        bad.push(r.hostName);
      }
    }
    if (bad.length)
      add({ name: 'pinned certificates', status: 'problem', detail: `cannot be parsed: ${bad.join(', ')}`, fix: `Re-pin with: ${W.repin(bad[0]!)}` });
    else if (expired.length)
      add({
        name: 'pinned certificates',
        status: 'problem',
        detail: `expired: ${expired.join(', ')}`,
        fix: `Check the endpoints with ${W.check}, then ${W.repin('HOST')} once they present a renewed certificate.`,
      });
    else if (soon.length)
      add({
        name: 'pinned certificates',
        status: 'warn',
        detail: `expire within ${days} days: ${soon.join(', ')}`,
        fix: `Plan the renewal with the cloud provider; then ${W.repin('HOST')}.`,
      });
    else add({ name: 'pinned certificates', status: 'ok', detail: `${records.length} parse, none expires within ${days} days` });
  } finally {
    store.close();
  }
  return checks;
}

/**
 * A shared store: the database answers and has this nbwss's schema, this
 * host's key file opens every sealed token, every entry has its token, and
 * every daemon of the store said at its last heartbeat that its key opens
 * them too (the key file is the administrator's to copy to each host).
 */
async function sharedDoctor(options: DoctorOptions, checks: DoctorCheck[], now: Date): Promise<DoctorCheck[]> {
  const add = (c: DoctorCheck) => checks.push(c);
  let store: EndpointStore;
  try {
    store = EndpointStore.open(options.home, { url: options.storeUrl });
  } catch (e) {
    add({ name: 'store', status: 'problem', detail: (e as Error).message, fix: (e as NbwssError).hint });
    return checks;
  }
  try {
    add({
      name: 'store',
      status: 'ok',
      detail: `shared PostgreSQL store ${store.backend.kind === 'postgres' ? store.backend.url : ''}, ${store.endpoints.list().length} entries`,
    });
    add({
      name: 'schema',
      status: store.schemaVersion === store.currentSchemaVersion ? 'ok' : 'problem',
      detail: `schema version ${store.schemaVersion} (this nbwss: ${store.currentSchemaVersion})`,
    });
    try {
      loadProperties(options.home);
      add({ name: 'properties', status: 'ok', detail: `${PROPERTIES_FILE} of this host is valid (properties are per host)` });
    } catch (e) {
      add({ name: 'properties', status: 'problem', detail: (e as Error).message, fix: (e as NbwssError).hint });
    }
    let secrets: SecretStore;
    try {
      secrets = await options.secrets(store);
      secrets.probe({ create: false });
      add({ name: 'key file', status: 'ok', detail: "this host's key file opens every token of the store" });
    } catch (e) {
      add({ name: 'key file', status: 'problem', detail: (e as Error).message, fix: (e as NbwssError).hint });
      return checks;
    }
    const missing = store.endpoints
      .list()
      .filter((r) => secrets.get(accountFor(r.hostName)) === undefined)
      .map((r) => r.hostName);
    add(
      missing.length === 0
        ? { name: 'tokens', status: 'ok', detail: 'every entry has its token' }
        : { name: 'tokens', status: 'problem', detail: `no token for: ${missing.join(', ')}`, fix: `Store one with: ${W.tokenSet(missing[0]!)} < token.txt` },
    );
    const daemons = store.shared?.daemons() ?? [];
    const badKeys = daemons.filter((d) => d.keyOk === false).map((d) => `${d.host} pid ${d.pid}`);
    const stale = daemons.filter((d) => now.getTime() - Date.parse(d.heartbeatAt) > 60_000).map((d) => `${d.host} pid ${d.pid}`);
    if (badKeys.length)
      add({
        name: 'hosts',
        status: 'problem',
        detail: `daemons whose key file does not open the tokens: ${badKeys.join(', ')}`,
        fix: `Copy the key file of this host to them (${W.keyFileVar} names where it is read), then restart their daemons.`,
      });
    else
      add({
        name: 'hosts',
        status: stale.length ? 'warn' : 'ok',
        detail: `${daemons.length} daemon${daemons.length === 1 ? '' : 's'} recorded${daemons.length ? `, every key file opens the tokens` : ''}${stale.length ? `; no heartbeat for a minute: ${stale.join(', ')}` : ''}`,
      });
  } finally {
    store.close();
  }
  return checks;
}
