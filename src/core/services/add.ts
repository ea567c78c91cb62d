import type { EndpointDetails } from '../endpoint/details.js';
import { parseWssUrl } from '../endpoint/url.js';
import { GUIDE, NbwssError } from '../errors.js';
import { accountFor, type SecretStore } from '../secrets/index.js';
import type { EndpointRecord, EndpointState, EndpointStore, PinType } from '../store/db.js';
import type { FetchOptions, PresentedCertificate } from '../tls/fetch.js';
import { FETCH_CONCURRENCY, mapLimit } from './limit.js';
import { W } from '../hints.js';

export interface Candidate {
  details: EndpointDetails;
  certificate: PresentedCertificate;
}

/** Decides whether a presented certificate is trusted; the CLI prompts, checks --fingerprint or honours --yes. */
export type AcceptFn = (candidate: Candidate) => Promise<boolean>;

export type FetchFn = (url: URL, opts: FetchOptions) => Promise<PresentedCertificate>;

export interface AddOptions {
  store: EndpointStore;
  secrets: SecretStore;
  endpoints: EndpointDetails[];
  accept: AcceptFn;
  fetch: FetchFn;
  fetchOptions?: FetchOptions;
  /** The state of new entries; a function is asked after acceptance (the wizard's "activate now?"). */
  state?: EndpointState | (() => Promise<EndpointState>);
  pinType?: PinType;
  now?: () => Date;
  /** Re-add hosts that exist with new details, keeping their state (and add the others). */
  replace?: boolean;
}

/** What add saved, per endpoint (add --json prints it): the entry's fields, and whether it replaced one. */
export interface AddedEndpoint extends Pick<EndpointRecord, 'hostName' | 'url' | 'groupId' | 'priority' | 'state' | 'pinType' | 'fingerprint' | 'notAfter'> {
  replaced: boolean;
}

export function entityExists(hostName: string): NbwssError {
  return new NbwssError('EXISTS', GUIDE.exists, {
    hint: `An endpoint with the host name ${hostName} is already saved. See it with: ${W.show(hostName)}; to replace its details and token, add again with --replace.`,
  });
}

/**
 * Save endpoints all-or-nothing: check none exists, fetch and accept each
 * certificate, fetch it again just before saving (it must not have changed),
 * then write tokens and entries under the store's write lock.
 */
export async function addEndpoints(options: AddOptions): Promise<AddedEndpoint[]> {
  const now = options.now ?? (() => new Date());
  if (!options.replace) for (const d of options.endpoints) if (options.store.endpoints.get(d.hostName)) throw entityExists(d.hostName);
  // Fail before any network work and prompting if the secret store does not answer.
  options.secrets.probe();

  const urls = options.endpoints.map((d) => parseWssUrl(d.url));
  // At most 16 certificate connections at a time, as check does (a document may name up to 1,000 endpoints).
  const fetchAll = () => mapLimit(urls, FETCH_CONCURRENCY, (u) => options.fetch(u, options.fetchOptions ?? {}));
  const presented = await fetchAll();
  const candidates = options.endpoints.map((details, i) => ({ details, certificate: presented[i]! }));

  for (const c of candidates) {
    if (!(await options.accept(c))) {
      throw new NbwssError('CERTIFICATE', `The certificate of ${c.details.hostName} was not accepted; nothing was saved`, {
        hint: 'Verify the fingerprint with the cloud provider, then run the command again.',
      });
    }
  }

  const again = await fetchAll();
  again.forEach((cert, i) => {
    if (cert.fingerprint !== candidates[i]!.certificate.fingerprint) {
      throw new NbwssError('CERTIFICATE', GUIDE.certMismatch, {
        hint: `The certificate of ${candidates[i]!.details.hostName} changed after it was accepted (now ${cert.fingerprint}). Make sure the certificate on the endpoint server was not changed, then add it again.`,
      });
    }
  });

  const pinType = options.pinType ?? 'cert';
  const newState = typeof options.state === 'function' ? await options.state() : (options.state ?? 'ACTIVATED');
  const stamp = now().toISOString();
  const written: string[] = [];
  /** Tokens that --replace overwrote, to put back if saving fails. */
  const previous = new Map<string, string | undefined>();
  const states = new Map<string, EndpointState>();
  try {
    options.store.write(() => {
      const inForce = options.store.recordSecretBackend(options.secrets.name);
      if (inForce !== options.secrets.name) {
        throw new NbwssError('STORE', `This store keeps its tokens in the ${inForce} secret store; another run recorded it just now`, {
          hint: `Run again with ${W.secretStore(inForce)}.`,
        });
      }
      for (const { details: d, certificate: c } of candidates) {
        const existing = options.store.endpoints.get(d.hostName);
        if (existing && !options.replace) throw entityExists(d.hostName);
        const entry = {
          hostName: existing?.hostName ?? d.hostName,
          url: d.url,
          groupId: d.groupId,
          priority: d.priority,
          state: existing?.state ?? newState,
          pinType,
          certPem: c.pem,
          fingerprint: c.fingerprint,
          spkiFingerprint: c.spkiFingerprint,
          notAfter: c.notAfter,
        };
        states.set(d.hostName, entry.state);
        if (existing) {
          previous.set(d.hostName, options.secrets.get(accountFor(d.hostName)));
          options.store.endpoints.replace(entry, stamp);
        } else options.store.endpoints.insert(entry, stamp);
      }
      // Tokens last, in one write (the file store rewrites its file once, not
      // once per token): a failure above writes none. Under the write lock no
      // other run can add these hosts, so a token already there for a new
      // host is an orphan; a replaced host's old token is kept to restore.
      // A backend that takes them one by one (a keychain) may fail half-way:
      // every host is restored, as if all had been written.
      const hosts = candidates.map(({ details: d }) => d.hostName);
      try {
        options.secrets.putAll(new Map(candidates.map(({ details: d }) => [accountFor(d.hostName), d.token])));
        written.push(...hosts);
      } catch (e) {
        restoreTokens(options.secrets, hosts, previous);
        throw e;
      }
    });
  } catch (e) {
    // Only a failed COMMIT leaves tokens written: put back replaced ones, and
    // remove new ones unless another run saved the host meanwhile.
    if (written.length > 0) {
      const replaced = written.filter((h) => previous.has(h));
      restoreTokens(options.secrets, replaced, previous);
      removeTokensOfAbsentHosts(
        options.store,
        options.secrets,
        written.filter((h) => !previous.has(h)),
      );
    }
    throw e;
  }

  return candidates.map(({ details, certificate }) => ({
    hostName: details.hostName,
    url: details.url,
    groupId: details.groupId,
    priority: details.priority,
    state: states.get(details.hostName)!,
    pinType,
    replaced: previous.has(details.hostName),
    fingerprint: certificate.fingerprint,
    notAfter: certificate.notAfter,
  }));
}

/** Put back each host's token as it was before (none: deleted), in one write. */
function restoreTokens(secrets: SecretStore, hosts: string[], previous: Map<string, string | undefined>): void {
  secrets.putAll(new Map(hosts.map((h) => [accountFor(h), previous.get(h)])));
}

/** Delete the tokens of hosts that have no entry, checked under the write lock. */
export function removeTokensOfAbsentHosts(store: EndpointStore, secrets: SecretStore, hosts: string[]): void {
  store.write(() => {
    secrets.putAll(new Map(hosts.filter((h) => !store.endpoints.get(h)).map((h) => [accountFor(h), undefined])));
  });
}
