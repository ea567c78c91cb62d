import { afterAll, describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { certFingerprint, derMatchesPin, formatHex, matchesPin, parseFingerprint, spkiFingerprint } from '../../src/core/tls/fingerprint.js';
import { makeCert } from '../helpers/certs.js';
import { cleanupTempDirs } from '../helpers/tmp.js';

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

describe('matchesPin and derMatchesPin: the one pin rule', () => {
  const cert = makeCert();
  const renewed = makeCert({ keyFrom: cert });
  const other = makeCert();
  const x = new X509Certificate(cert.cert);
  const certPin = { pinType: 'cert' as const, fingerprint: certFingerprint(x), spkiFingerprint: spkiFingerprint(x) };
  const spkiPin = { ...certPin, pinType: 'spki' as const };
  const der = (c: { cert: string }) => new X509Certificate(c.cert).raw;

  it('a certificate pin holds exactly that certificate', () => {
    expect(derMatchesPin(certPin, der(cert))).toBe(true);
    expect(derMatchesPin(certPin, der(renewed))).toBe(false);
    expect(derMatchesPin(certPin, der(other))).toBe(false);
  });

  it('a public-key pin survives a renewal that keeps the key, and nothing else', () => {
    expect(derMatchesPin(spkiPin, der(cert))).toBe(true);
    expect(derMatchesPin(spkiPin, der(renewed))).toBe(true);
    expect(derMatchesPin(spkiPin, der(other))).toBe(false);
  });

  it('matchesPin compares the fingerprint the pin names, not the other one', () => {
    expect(matchesPin(certPin, { fingerprint: certPin.fingerprint, spkiFingerprint: 'x' })).toBe(true);
    expect(matchesPin(certPin, { fingerprint: 'x', spkiFingerprint: certPin.spkiFingerprint })).toBe(false);
    expect(matchesPin(spkiPin, { fingerprint: 'x', spkiFingerprint: certPin.spkiFingerprint })).toBe(true);
    expect(matchesPin(spkiPin, { fingerprint: certPin.fingerprint, spkiFingerprint: 'x' })).toBe(false);
  });

  it('fingerprints are uppercase colon-separated SHA-256, as openssl prints them', () => {
    expect(certFingerprint(x)).toBe(cert.fingerprint);
    expect(spkiFingerprint(x)).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(spkiFingerprint(new X509Certificate(renewed.cert))).toBe(spkiFingerprint(x));
  });
});

afterAll(cleanupTempDirs);
