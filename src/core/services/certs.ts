import { GUIDE, NbwssError } from '../errors.js';
import { parseWssUrl } from '../endpoint/url.js';
import type { EndpointRecord, EndpointStore, PinType } from '../store/db.js';
import { certificateWeaknesses, type FetchOptions, type PresentedCertificate } from '../tls/fetch.js';
import type { FetchFn } from './add.js';
import { getEndpoint, notFound } from './endpoints.js';
import { FETCH_CONCURRENCY, mapLimit } from './limit.js';

export { mapLimit };

export type CheckStatus = 'OK' | 'CHANGED' | 'EXPIRING' | 'EXPIRED' | 'UNREACHABLE';

export interface CheckResult {
  hostName: string;
  status: CheckStatus;
  pinType: PinType;
  pinned: string;
  presented: string | null;
  notAfter: string | null;
  daysLeft: number | null;
  detail: string;
}

import { matchesPin } from '../tls/fingerprint.js';
import { W } from '../hints.js';

export { matchesPin };

/**
 * Fetch each endpoint's certificate (concurrently, bounded) and compare it
 * with its pin and its expiry: for cron and monitoring.
 */
export async function checkEndpoints(
  store: EndpointStore,
  hosts: string[],
  o: { days: number; fetch: FetchFn; fetchOptions?: FetchOptions; concurrency?: number; now?: Date },
): Promise<CheckResult[]> {
  const records = hosts.length ? hosts.map((h) => getEndpoint(store, h)) : store.endpoints.list();
  const now = o.now ?? new Date();
  return mapLimit(records, o.concurrency ?? FETCH_CONCURRENCY, async (r): Promise<CheckResult> => {
    const pinned = r.pinType === 'spki' ? r.spkiFingerprint : r.fingerprint;
    const base = { hostName: r.hostName, pinType: r.pinType, pinned };
    let c: PresentedCertificate;
    try {
      c = await o.fetch(parseWssUrl(r.url), o.fetchOptions ?? {});
    } catch (e) {
      return {
        ...base,
        status: 'UNREACHABLE',
        presented: null,
        notAfter: null,
        daysLeft: null,
        detail: e instanceof NbwssError ? `${e.message}${e.hint ? `: ${e.hint}` : ''}` : String(e),
      };
    }
    const daysLeft = Math.floor((Date.parse(c.notAfter) - now.getTime()) / 86_400_000);
    const seen = { presented: r.pinType === 'spki' ? c.spkiFingerprint : c.fingerprint, notAfter: c.notAfter, daysLeft };
    if (!matchesPin(r, c))
      return {
        ...base,
        ...seen,
        status: 'CHANGED',
        detail: `the endpoint presents a different ${r.pinType === 'spki' ? 'public key' : 'certificate'}; verify it, then run: ${W.repin(r.hostName)}`,
      };
    if (Date.parse(c.notAfter) <= now.getTime())
      return { ...base, ...seen, status: 'EXPIRED', detail: `expired on ${c.notAfter}; the endpoint must renew its certificate` };
    if (daysLeft < o.days) return { ...base, ...seen, status: 'EXPIRING', detail: `expires in ${daysLeft} day${daysLeft === 1 ? '' : 's'} (${c.notAfter})` };
    const weak = certificateWeaknesses(c.pem, now);
    return { ...base, ...seen, status: 'OK', detail: `valid until ${c.notAfter}${weak.length ? `; but ${weak.join('; ')}` : ''}` };
  });
}

export interface RepinResult {
  hostName: string;
  before: { pinType: PinType; fingerprint: string; spkiFingerprint: string; notAfter: string };
  after: { pinType: PinType; fingerprint: string; spkiFingerprint: string; notAfter: string };
  samePublicKey: boolean;
  /** False when the endpoint still presents what is pinned: nothing was asked or written. */
  changed: boolean;
}

/**
 * Replace an entry's pin with the certificate the endpoint presents now,
 * once accepted; fetched again just before saving, like add.
 */
export async function repinEndpoint(
  store: EndpointStore,
  host: string,
  o: {
    fetch: FetchFn;
    fetchOptions?: FetchOptions;
    pinType?: PinType;
    accept: (r: EndpointRecord, c: PresentedCertificate) => Promise<boolean>;
    now?: () => Date;
  },
): Promise<RepinResult> {
  const r = getEndpoint(store, host);
  const url = parseWssUrl(r.url);
  const c = await o.fetch(url, o.fetchOptions ?? {});
  const pinType = o.pinType ?? r.pinType;
  const before = { pinType: r.pinType, fingerprint: r.fingerprint, spkiFingerprint: r.spkiFingerprint, notAfter: r.notAfter };
  if (pinType === r.pinType && c.fingerprint === r.fingerprint) {
    return { hostName: r.hostName, before, after: before, samePublicKey: true, changed: false };
  }
  if (!(await o.accept(r, c))) {
    throw new NbwssError('CERTIFICATE', `The certificate of ${r.hostName} was not accepted; the pin is unchanged`, {
      hint: 'Verify the fingerprint with the cloud provider, then run the command again.',
    });
  }
  const again = await o.fetch(url, o.fetchOptions ?? {});
  if (again.fingerprint !== c.fingerprint) {
    throw new NbwssError('CERTIFICATE', GUIDE.certMismatch, {
      hint: `The certificate of ${r.hostName} changed after it was accepted (now ${again.fingerprint}); the pin is unchanged.`,
    });
  }
  const stamp = (o.now ?? (() => new Date()))().toISOString();
  store.write(() => {
    if (!store.endpoints.get(r.hostName)) throw notFound(r.hostName);
    store.endpoints.setPin(
      r.hostName,
      { pinType, certPem: c.pem, fingerprint: c.fingerprint, spkiFingerprint: c.spkiFingerprint, notAfter: c.notAfter },
      stamp,
    );
  });
  return {
    hostName: r.hostName,
    before,
    after: { pinType, fingerprint: c.fingerprint, spkiFingerprint: c.spkiFingerprint, notAfter: c.notAfter },
    samePublicKey: r.spkiFingerprint === c.spkiFingerprint,
    changed: true,
  };
}
