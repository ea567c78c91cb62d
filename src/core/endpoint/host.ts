import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';

/**
 * The one identity of a host, used for the store key, the secret store's
 * account, the daemon's maps, completion, the audit log and every
 * comparison: lower case, no trailing dot, an internationalised name in its
 * ASCII (punycode) form, an IPv6 address in its compressed form.
 * `cloudhost7.nebula.com.`, `CloudHost7.Nebula.com` and `cloudhost7.nebula.com`
 * are one host.
 */
export function canonicalHost(raw: string): string {
  const host = raw.trim();
  if (isIP(host) === 4) return host;
  if (isIP(host) === 6) {
    try {
      return new URL(`http://[${host}]/`).hostname.slice(1, -1);
    } catch {
      return host.toLowerCase(); // a zone id (fe80::1%eth0): no URL form
    }
  }
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  // domainToASCII lower-cases, maps full-width dots and encodes non-ASCII labels; '' when it cannot.
  const ascii = /^[\x21-\x7e]*$/.test(name) ? name.toLowerCase() : domainToASCII(name);
  return ascii === '' ? name.toLowerCase() : ascii.replace(/\.$/, '');
}

/** Two host names are one host when their canonical forms are equal. */
export const sameHost = (a: string, b: string): boolean => canonicalHost(a) === canonicalHost(b);

/** Characters IDNA maps to nothing or that reorder text: soft hyphen, combining grapheme joiner, bidi marks, zero-width. */
const HIDDEN = /\u00ad|\u034f|\u061c|\u180e|[\u200b-\u200f]|[\u2028-\u202e]|[\u2060-\u2069]|\ufeff/;

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** A DNS name (letters, digits, hyphens; an internationalised name by its punycode form) or an IPv4/IPv6 address. */
export function isValidHostName(host: string): boolean {
  if (isIP(host) !== 0) return true;
  if (host !== host.trim()) return false;
  // IDNA would silently drop these (a\u200b.test becomes a.test): a name that hides characters is refused.
  if (HIDDEN.test(host)) return false;
  const name = canonicalHost(host);
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  // An all-numeric dotted name that is not an IPv4 address (e.g. 1.2.3) is not a host name.
  if (labels.every((l) => /^[0-9]+$/.test(l))) return false;
  return labels.every((l) => LABEL.test(l));
}
