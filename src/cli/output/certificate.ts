import type { PresentedCertificate } from '../../core/tls/fetch.js';
import type { Style } from './style.js';

/** The certificate as the dialog's Validate step shows it (on stderr). */
export function formatCertificate(host: string, target: string, c: PresentedCertificate, s: Style, now = new Date(), debug = false): string {
  const expired = new Date(c.notAfter) < now;
  const notYet = new Date(c.notBefore) > now;
  const validity = `${c.notBefore} to ${c.notAfter}${expired ? ` ${s.red('(EXPIRED)')}` : notYet ? ` ${s.red('(NOT YET VALID)')}` : ''}`;
  const trust = c.trusted
    ? s.green('yes, chains to a system CA')
    : s.yellow(`no${c.trustError ? ` — ${describeTrustError(c.trustError)}${debug ? ` (${c.trustError})` : ''}` : ''}`);
  const match = c.hostnameMatches ? s.green('yes') : s.yellow(`no, the certificate does not name ${hostOf(target)}`);
  const rows: [string, string][] = [
    ['Subject', c.subject],
    ['Issuer', c.issuer],
    ['SANs', c.sans.length ? c.sans.join(', ') : '(none)'],
    ['Validity', validity],
    ['SHA-256', s.bold(c.fingerprint)],
    ['Trusted', trust],
    ['Host match', match],
  ];
  if (c.chain.length > 1) rows.push(['Chain', c.chain.map((x) => x.subject).join(' <- ')]);
  return [`Certificate presented by ${host} (${target}):`, ...rows.map(([k, v]) => `  ${`${k}:`.padEnd(12)}${v}`)].join('\n');
}

const hostOf = (target: string) => target.replace(/:\d+$/, '');

/** OpenSSL's verification codes in words (the raw code stays in --json and under NBWSS_DEBUG=1). */
const TRUST_ERRORS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'its chain ends in a self-signed certificate this machine does not trust',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'issued by a CA this machine does not know',
  UNABLE_TO_GET_ISSUER_CERT: 'issued by a CA this machine does not know',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'issued by a CA this machine does not know',
  CERT_HAS_EXPIRED: 'expired',
  CERT_NOT_YET_VALID: 'not yet valid',
  CERT_REVOKED: 'revoked',
  CERT_SIGNATURE_FAILURE: 'its signature does not verify',
  CERT_UNTRUSTED: 'not trusted for this purpose',
  INVALID_CA: 'signed by a certificate that is not a CA',
};

export function describeTrustError(code: string): string {
  return TRUST_ERRORS[code] ?? 'its chain cannot be verified';
}
