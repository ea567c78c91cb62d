import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { checkServerIdentity, connect, rootCertificates, type DetailedPeerCertificate, type PeerCertificate } from 'node:tls';
import type { LookupFunction } from 'node:net';
import { GUIDE, NbwssError } from '../errors.js';
import { urlHost, urlPort } from '../endpoint/url.js';
import { certFingerprint, spkiFingerprint } from './fingerprint.js';
import { describeSocketError } from '../net-errors.js';

export interface CertificateSummary {
  subject: string;
  issuer: string;
  sans: string[];
  notBefore: string; // ISO 8601
  notAfter: string; // ISO 8601
  fingerprint: string; // SHA-256 of the DER, AA:BB:...
  spkiFingerprint: string; // SHA-256 of the public key
  serialNumber: string;
}

export interface PresentedCertificate extends CertificateSummary {
  /** PEM of the leaf certificate: what is pinned. */
  pem: string;
  /** The chain as presented, leaf first. */
  chain: CertificateSummary[];
  /** Chains to a CA the system trusts. */
  trusted: boolean;
  trustError: string | undefined;
  /** The certificate names the host we connected to. */
  hostnameMatches: boolean;
}

export interface FetchOptions {
  timeoutMs?: number;
  /** For tests and for the daemon: a resolver to use instead of the system's. */
  lookup?: LookupFunction;
  /** Extra CAs (PEM) trusted besides the system's, for the "trusted" verdict. */
  ca?: string[];
}

export const DEFAULT_TIMEOUT_MS = 10_000;

export function summarize(cert: X509Certificate): CertificateSummary {
  return {
    subject: oneLine(cert.subject),
    issuer: oneLine(cert.issuer),
    sans: (cert.subjectAltName ?? '').split(/,\s*/).filter(Boolean),
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
    fingerprint: certFingerprint(cert),
    spkiFingerprint: spkiFingerprint(cert),
    serialNumber: cert.serialNumber,
  };
}

export const summarizePem = (pem: string) => summarize(new X509Certificate(pem));

const oneLine = (dn: string) => dn.split('\n').filter(Boolean).join(', ');

function toPem(raw: Buffer): string {
  const b64 = raw
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

/**
 * Open a TLS connection to the url's host and port and take the certificate
 * chain the endpoint presents, CA-signed or not (most endpoints are
 * self-signed): nothing is sent over it. The guide's error texts for
 * failures: "Unable to establish connection with host: HOST" when no TCP
 * connection comes up, "Failed to setup SSL security" when the handshake fails.
 */
export function fetchCertificate(url: URL, opts: FetchOptions = {}): Promise<PresentedCertificate> {
  const host = urlHost(url);
  const port = urlPort(url);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    let tcpUp = false;
    let settled = false;
    const socket = connect({
      host,
      port,
      servername: isIP(host) === 0 ? host : undefined,
      rejectUnauthorized: false,
      ca: opts.ca ? [...rootCertificates, ...opts.ca] : undefined,
      lookup: opts.lookup,
    });
    const finish = (err: NbwssError | undefined, value?: PresentedCertificate) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(value!);
    };
    const timer = setTimeout(() => {
      finish(
        tcpUp
          ? new NbwssError('NETWORK', GUIDE.sslSetup, {
              hint: `${host}:${port} accepted the connection but did not complete a TLS handshake within ${timeoutMs} ms. Check that the port speaks TLS (wss://).`,
            })
          : new NbwssError('NETWORK', GUIDE.unableToConnect(host), { hint: `No connection to ${host}:${port} within ${timeoutMs} ms. ${NETWORK_HINT}` }),
      );
    }, timeoutMs);
    socket.once('connect', () => {
      tcpUp = true;
    });
    socket.once('secureConnect', () => {
      try {
        const peer = socket.getPeerCertificate(true);
        if (!peer?.raw) throw new Error('the endpoint presented no certificate');
        const chainRaw = collectChain(peer);
        const leaf = new X509Certificate(chainRaw[0]!);
        const identity = checkServerIdentity(host, peer as PeerCertificate);
        const authErr = socket.authorizationError;
        finish(undefined, {
          ...summarize(leaf),
          pem: toPem(chainRaw[0]!),
          chain: chainRaw.map((r) => summarize(new X509Certificate(r))),
          trusted: socket.authorized,
          trustError: socket.authorized
            ? undefined
            : authErr
              ? String(authErr instanceof Error ? ((authErr as NodeJS.ErrnoException).code ?? authErr.message) : authErr)
              : undefined,
          hostnameMatches: identity === undefined,
        });
      } catch (e) {
        finish(new NbwssError('NETWORK', GUIDE.sslSetup, { hint: `The certificate of ${host}:${port} could not be read: ${(e as Error).message}`, cause: e }));
      }
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      finish(
        tcpUp
          ? new NbwssError('NETWORK', GUIDE.sslSetup, {
              hint: `The TLS handshake with ${host}:${port} failed (${describeTlsError(err)}). Make sure the WebSocket server has a valid SSL certificate and that the port speaks TLS.`,
              cause: err,
            })
          : new NbwssError('NETWORK', GUIDE.unableToConnect(host), { hint: `${describeNetError(err, host, port)}. ${NETWORK_HINT}`, cause: err }),
      );
    });
  });
}

const NETWORK_HINT = "Make sure the WebSocket server's host name (or IP address) and port are correct, that you can reach it, and that DNS lookup works.";

function describeNetError(err: NodeJS.ErrnoException, host: string, port: number): string {
  return describeSocketError(err.code, { host, port }) ?? `${err.code ?? err.message}`;
}

function describeTlsError(err: NodeJS.ErrnoException): string {
  return (err.code === 'ECONNRESET' || err.code === 'ERR_SSL_WRONG_VERSION_NUMBER' ? describeSocketError(err.code) : undefined) ?? err.code ?? err.message;
}

function collectChain(leaf: DetailedPeerCertificate): Buffer[] {
  const out: Buffer[] = [];
  const seen = new Set<string>();
  let peer: DetailedPeerCertificate | undefined = leaf;
  while (peer?.raw && !seen.has(peer.fingerprint256)) {
    seen.add(peer.fingerprint256);
    out.push(peer.raw);
    peer = peer.issuerCertificate;
  }
  return out;
}

/**
 * What makes a certificate a poor thing to pin, in words: expired, not yet
 * valid, an RSA key under 2048 bits. Said before it is trusted (even with
 * --yes) and by validate and check.
 */
export function certificateWeaknesses(pem: string, now = new Date()): string[] {
  const out: string[] = [];
  const cert = new X509Certificate(pem);
  if (Date.parse(cert.validTo) <= now.getTime()) out.push(`it expired on ${new Date(cert.validTo).toISOString()}`);
  if (Date.parse(cert.validFrom) > now.getTime()) out.push(`it is not valid before ${new Date(cert.validFrom).toISOString()}`);
  const key = cert.publicKey;
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if ((key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') && bits !== undefined && bits < 2048) {
    out.push(`its RSA key has only ${bits} bits (2048 is the least considered safe)`);
  }
  return out;
}
