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

import { describeTrustError } from '../../core/net-errors.js';

export { describeTrustError };
