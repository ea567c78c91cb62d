import { X509Certificate } from 'node:crypto';
import { GUIDE, NbwssError } from '../errors.js';
import { accountFor, type SecretStore } from '../secrets/index.js';
import type { EndpointRecord, EndpointState, EndpointStore } from '../store/db.js';
import { summarize, type CertificateSummary } from '../tls/fetch.js';
import { removeTokensOfAbsentHosts } from './add.js';
import { W } from '../hints.js';

export function notFound(hostName: string): NbwssError {
  return new NbwssError('NOT_FOUND', GUIDE.notFound, {
    hint: `No endpoint with the host name ${hostName} is saved. See the saved ones with: ${W.list}`,
  });
}

export interface EndpointDetailsView {
  record: EndpointRecord;
  certificate: CertificateSummary;
  token?: string;
}

export function getEndpoint(store: EndpointStore, hostName: string): EndpointRecord {
  const record = store.endpoints.get(hostName);
  if (!record) throw notFound(hostName);
  return record;
}

export function showEndpoint(store: EndpointStore, hostName: string, secrets?: SecretStore): EndpointDetailsView {
  const record = getEndpoint(store, hostName);
  let certificate: CertificateSummary;
  try {
    certificate = summarize(new X509Certificate(record.certPem));
  } catch (e) {
    throw new NbwssError('STORE', `The pinned certificate of ${record.hostName} cannot be read from the store`, {
      hint: `Pin the endpoint's certificate again with: ${W.repin(record.hostName)} (${W.doctor} lists every such entry)`,
      cause: e,
    });
  }
  if (!secrets) return { record, certificate };
  const token = secrets.get(accountFor(record.hostName));
  if (token === undefined) {
    throw new NbwssError('STORE', `The token of ${record.hostName} is missing from the ${secrets.name} secret store`, {
      hint: `Re-add the endpoint with its details: ${W.deleteHost(record.hostName)} --yes, then ${W.addFile}`,
    });
  }
  return { record, certificate, token };
}

/** All named hosts must exist; returns their records (stored spelling). */
function requireAll(store: EndpointStore, hosts: string[]): EndpointRecord[] {
  return hosts.map(
    (host) =>
      store.endpoints.get(host) ??
      (() => {
        throw notFound(host);
      })(),
  );
}

/**
 * Delete entries, pins and tokens. The entries go first in one transaction;
 * then the tokens (one write of the secret store), under the write lock again
 * and only those whose host has no entry (a concurrent add of the same host keeps its new token). A run
 * killed between the two leaves at worst an orphan token, never an entry
 * without its token.
 */
export function deleteEndpoints(store: EndpointStore, secrets: SecretStore, hosts: string[]): { removed: string[]; tokensLeft?: NbwssError } {
  const removed = store.write(() => {
    const records = requireAll(store, hosts);
    for (const r of records) store.endpoints.remove(r.hostName);
    return records.map((r) => r.hostName);
  });
  // The entries are gone (the daemon must hear of it); tokens the secret store would not remove are orphans, said so.
  try {
    removeTokensOfAbsentHosts(store, secrets, removed);
  } catch (e) {
    if (!(e instanceof NbwssError)) throw e;
    return { removed, tokensLeft: e };
  }
  return { removed };
}

export interface StateChange {
  hostName: string;
  state: EndpointState;
  changed: boolean;
}

export function setEndpointState(store: EndpointStore, hosts: string[], state: EndpointState, now = new Date()): StateChange[] {
  return store.write(() => {
    const records = requireAll(store, hosts);
    return records.map((r) => ({ hostName: r.hostName, state, changed: store.endpoints.setState(r.hostName, state, now.toISOString()) }));
  });
}

/** A new token for a saved endpoint (the old one expired), validated like the details file's. */
export async function setToken(store: EndpointStore, secrets: SecretStore, hostName: string, token: string, now = new Date()): Promise<string> {
  const { validateToken } = await import('../endpoint/details.js');
  validateToken(token);
  let previous: { account: string; token: string | undefined } | undefined;
  try {
    return store.write(() => {
      const record = getEndpoint(store, hostName);
      const account = accountFor(record.hostName);
      const old = secrets.get(account);
      store.endpoints.touch(record.hostName, now.toISOString());
      secrets.set(account, token);
      previous = { account, token: old };
      return record.hostName;
    });
  } catch (e) {
    // Only a failed COMMIT gets here after the token was written: put the old one back.
    if (previous) {
      if (previous.token === undefined) secrets.delete(previous.account);
      else secrets.set(previous.account, previous.token);
    }
    throw e;
  }
}
