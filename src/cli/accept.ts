import { GUIDE, NbwssError } from '../core/errors.js';
import type { PinType } from '../core/store/db.js';
import type { PresentedCertificate } from '../core/tls/fetch.js';
import type { Context } from './context.js';
import { canPrompt } from './io.js';

export interface AcceptOptions {
  fingerprint?: string[];
  yes?: boolean;
}

/** --fingerprint values in canonical form; a usage error for one that is not a SHA-256 fingerprint. */
export async function parseFingerprints(values: string[] = []): Promise<string[]> {
  const { parseFingerprint } = await import('../core/tls/fingerprint.js');
  return values.map((text) => {
    const fp = parseFingerprint(text);
    if (!fp)
      throw new NbwssError('USAGE', `--fingerprint ${text} is not a SHA-256 fingerprint`, {
        hint: 'Give 64 hex digits (colons optional), as openssl x509 -fingerprint -sha256 prints them, or SHA256:<base64>.',
      });
    return fp;
  });
}

/**
 * Whether to trust a presented certificate: it must match a --fingerprint
 * (the certificate's, or with --pin spki the public key's); or --yes says
 * trust it (said on stderr); or the administrator accepts it at a terminal.
 * Without any of them there is no one to ask: refused, exit 5.
 */
export function makeAcceptor(ctx: Context, options: AcceptOptions, wanted: string[], pinType: PinType) {
  return async (host: string, cert: PresentedCertificate, question: string): Promise<boolean> => {
    // Trusting what is weak is allowed (it may be all the endpoint has), never silently.
    const { certificateWeaknesses } = await import('../core/tls/fetch.js');
    for (const w of certificateWeaknesses(cert.pem)) ctx.warn(`the certificate of ${host}: ${w}`);
    if (wanted.length > 0) {
      if (wanted.includes(cert.fingerprint) || (pinType === 'spki' && wanted.includes(cert.spkiFingerprint))) return true;
      throw new NbwssError('CERTIFICATE', GUIDE.certMismatch, {
        hint: `${host} presents ${cert.fingerprint}, which is not the --fingerprint given. Verify the certificate with the cloud provider.`,
      });
    }
    if (options.yes) {
      ctx.warn(`trusting the certificate presented by ${host} (SHA-256 ${cert.fingerprint}) without asking, because of --yes`);
      return true;
    }
    if (!canPrompt(ctx.io)) {
      throw new NbwssError('CERTIFICATE', `Not saved: the certificate of ${host} must be accepted, and there is no terminal to ask on`, {
        hint: `Verify the fingerprint, then pass --fingerprint ${cert.fingerprint} (or --yes to trust what is presented).`,
      });
    }
    return (await ctx.prompter()).confirm(question, false);
  };
}
