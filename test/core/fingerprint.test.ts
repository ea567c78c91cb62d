import { describe, expect, it } from 'vitest';
import { formatHex, parseFingerprint } from '../../src/core/tls/fingerprint.js';

const hex = 'ab'.repeat(32);
const canonical = formatHex(Buffer.from(hex, 'hex'));

describe('parseFingerprint', () => {
  it.each([
    canonical,
    canonical.toLowerCase(),
    hex,
    hex.toUpperCase(),
    `sha256 Fingerprint=${canonical}`, // openssl x509 -fingerprint -sha256
    canonical.replace(/:/g, ' '),
    `SHA256:${Buffer.from(hex, 'hex').toString('base64').replace(/=$/, '')}`, // ssh-keygen -l
    `SHA256:${Buffer.from(hex, 'hex').toString('base64')}`,
  ])('%s', (input) => {
    expect(parseFingerprint(input)).toBe(canonical);
  });

  it.each(['', 'ab', `${hex}00`, 'zz'.repeat(32), 'SHA256:short', `sha1:${hex}`])('refuses %s', (input) => {
    expect(parseFingerprint(input)).toBeUndefined();
  });

  it('formats as uppercase colon-separated pairs', () => {
    expect(canonical).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });
});
