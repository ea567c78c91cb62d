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
  options: { days: number; fetch: FetchFn; fetchOptions?: FetchOptions; concurrency?: number; now?: Date },
): Promise<CheckResult[]> {
  const records = hosts.length ? hosts.map((h) => getEndpoint(store, h)) : store.endpoints.list();
  const now = options.now ?? new Date();
  return mapLimit(records, options.concurrency ?? FETCH_CONCURRENCY, async (summary): Promise<CheckResult> => {
    const pinned = summary.pinType === 'spki' ? summary.spkiFingerprint : summary.fingerprint;
    const base = { hostName: summary.hostName, pinType: summary.pinType, pinned };
    let cert: PresentedCertificate;
    try {
      cert = await options.fetch(parseWssUrl(summary.url), options.fetchOptions ?? {});
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
    const daysLeft = Math.floor((Date.parse(cert.notAfter) - now.getTime()) / 86_400_000);
    const seen = { presented: summary.pinType === 'spki' ? cert.spkiFingerprint : cert.fingerprint, notAfter: cert.notAfter, daysLeft };
    if (!matchesPin(summary, cert))
      return {
        ...base,
        ...seen,
        status: 'CHANGED',
        detail: `the endpoint presents a different ${summary.pinType === 'spki' ? 'public key' : 'certificate'}; verify it, then run: ${W.repin(summary.hostName)}`,
      };
    if (Date.parse(cert.notAfter) <= now.getTime())
      return { ...base, ...seen, status: 'EXPIRED', detail: `expired on ${cert.notAfter}; the endpoint must renew its certificate` };
    if (daysLeft < options.days)
      return { ...base, ...seen, status: 'EXPIRING', detail: `expires in ${daysLeft} day${daysLeft === 1 ? '' : 's'} (${cert.notAfter})` };
    const weak = certificateWeaknesses(cert.pem, now);
    return { ...base, ...seen, status: 'OK', detail: `valid until ${cert.notAfter}${weak.length ? `; but ${weak.join('; ')}` : ''}` };
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
  options: {
    fetch: FetchFn;
    fetchOptions?: FetchOptions;
    pinType?: PinType;
    accept: (record: EndpointRecord, cert: PresentedCertificate) => Promise<boolean>;
    now?: () => Date;
  },
): Promise<RepinResult> {
  const record = getEndpoint(store, host);
  const url = parseWssUrl(record.url);
  const cert = await options.fetch(url, options.fetchOptions ?? {});
  const pinType = options.pinType ?? record.pinType;
  const before = { pinType: record.pinType, fingerprint: record.fingerprint, spkiFingerprint: record.spkiFingerprint, notAfter: record.notAfter };
  if (pinType === record.pinType && cert.fingerprint === record.fingerprint) {
    return { hostName: record.hostName, before, after: before, samePublicKey: true, changed: false };
  }
  if (!(await options.accept(record, cert))) {
    throw new NbwssError('CERTIFICATE', `The certificate of ${record.hostName} was not accepted; the pin is unchanged`, {
      hint: 'Verify the fingerprint with the cloud provider, then run the command again.',
    });
  }
  const again = await options.fetch(url, options.fetchOptions ?? {});
  if (again.fingerprint !== cert.fingerprint) {
    throw new NbwssError('CERTIFICATE', GUIDE.certMismatch, {
      hint: `The certificate of ${record.hostName} changed after it was accepted (now ${again.fingerprint}); the pin is unchanged.`,
    });
  }
  const stamp = (options.now ?? (() => new Date()))().toISOString();
  store.write(() => {
    if (!store.endpoints.get(record.hostName)) throw notFound(record.hostName);
    store.endpoints.setPin(
      record.hostName,
      { pinType, certPem: cert.pem, fingerprint: cert.fingerprint, spkiFingerprint: cert.spkiFingerprint, notAfter: cert.notAfter },
      stamp,
    );
  });
  return {
    hostName: record.hostName,
    before,
    after: { pinType, fingerprint: cert.fingerprint, spkiFingerprint: cert.spkiFingerprint, notAfter: cert.notAfter },
    samePublicKey: record.spkiFingerprint === cert.spkiFingerprint,
    changed: true,
  };
}
