import type { PresentedCertificate } from '../../core/tls/fetch.js';
import type { Style } from './style.js';

/** The certificate as the dialog's Validate step shows it (on stderr). */
export function formatCertificate(host: string, target: string, cert: PresentedCertificate, style: Style, now = new Date(), debug = false): string {
  const expired = new Date(cert.notAfter) < now;
  const notYet = new Date(cert.notBefore) > now;
  const validity = `${cert.notBefore} to ${cert.notAfter}${expired ? ` ${style.red('(EXPIRED)')}` : notYet ? ` ${style.red('(NOT YET VALID)')}` : ''}`;
  const trust = cert.trusted
    ? style.green('yes, chains to a system CA')
    : style.yellow(`no${cert.trustError ? ` — ${describeTrustError(cert.trustError)}${debug ? ` (${cert.trustError})` : ''}` : ''}`);
  const match = cert.hostnameMatches ? style.green('yes') : style.yellow(`no, the certificate does not name ${hostOf(target)}`);
  const rows: [string, string][] = [
    ['Subject', cert.subject],
    ['Issuer', cert.issuer],
    ['SANs', cert.sans.length ? cert.sans.join(', ') : '(none)'],
    ['Validity', validity],
    ['SHA-256', style.bold(cert.fingerprint)],
    ['Trusted', trust],
    ['Host match', match],
  ];
  if (cert.chain.length > 1) rows.push(['Chain', cert.chain.map((x) => x.subject).join(' <- ')]);
  return [`Certificate presented by ${host} (${target}):`, ...rows.map(([k, v]) => `  ${`${k}:`.padEnd(12)}${v}`)].join('\n');
}

const hostOf = (target: string) => target.replace(/:\d+$/, '');

import { describeTrustError } from '../../core/net-errors.js';

export { describeTrustError };
