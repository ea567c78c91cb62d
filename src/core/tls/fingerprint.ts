import { createHash, X509Certificate } from 'node:crypto';

/** Uppercase colon-separated hex, as openssl prints it: AB:CD:... */
export function formatHex(digest: Buffer): string {
  return digest.toString('hex').toUpperCase().match(/../g)!.join(':');
}

export const sha256 = (data: Buffer | Uint8Array) => createHash('sha256').update(data).digest();

/** SHA-256 of the certificate's DER, in openssl's format. */
export function certFingerprint(cert: X509Certificate): string {
  return formatHex(sha256(cert.raw));
}

/** SHA-256 of the DER SubjectPublicKeyInfo: survives renewals that keep the key. */
export function spkiFingerprint(cert: X509Certificate): string {
  return formatHex(sha256(cert.publicKey.export({ type: 'spki', format: 'der' })));
}

/**
 * A fingerprint as the administrator may paste it: hex with or without
 * colons (or spaces) in any case, as openssl or a browser prints it, or
 * SHA256:<base64> as ssh prints it. Returns the canonical form, or undefined
 * if it is not a SHA-256 fingerprint.
 */
export function parseFingerprint(input: string): string | undefined {
  const text = input.trim();
  const ssh = /^SHA256:([A-Za-z0-9+/]{43}=?)$/i.exec(text);
  if (ssh && text.startsWith('SHA256:')) {
    const bytes = Buffer.from(ssh[1]!, 'base64');
    return bytes.length === 32 ? formatHex(bytes) : undefined;
  }
  const hex = text.replace(/^sha-?256\s*(fingerprint)?\s*[=:]?\s*/i, '').replace(/[:\s]/g, '');
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return undefined;
  return formatHex(Buffer.from(hex, 'hex'));
}

/** What a pin names: the certificate's SHA-256, or its public key's (spki). */
export interface Pin {
  pinType: 'cert' | 'spki';
  fingerprint: string;
  spkiFingerprint: string;
}

/** The one rule for whether a certificate satisfies a pin (add's re-check, check, repin, and the daemon before any HTTP byte). */
export function matchesPin(pin: Pin, presented: { fingerprint: string; spkiFingerprint: string }): boolean {
  return pin.pinType === 'spki' ? pin.spkiFingerprint === presented.spkiFingerprint : pin.fingerprint === presented.fingerprint;
}

/** matchesPin for a peer certificate as DER (only the fingerprint the pin needs is computed). */
export function derMatchesPin(pin: Pin, der: Buffer): boolean {
  return pin.pinType === 'spki'
    ? matchesPin(pin, { fingerprint: '', spkiFingerprint: spkiFingerprint(new X509Certificate(der)) })
    : matchesPin(pin, { fingerprint: formatHex(sha256(der)), spkiFingerprint: '' });
}
