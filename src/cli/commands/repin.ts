import { Command, Option } from 'commander';
import type { PinType } from '../../core/store/db.js';
import { makeAcceptor, parseFingerprints } from '../accept.js';
import type { Context, GlobalOptions } from '../context.js';
import { collect, parseTimeout } from '../options.js';
import { sideBySide, terminalWidth } from '../output/side-by-side.js';
import { safeJson } from '../../core/text.js';
import { changesStore } from '../changes.js';

export interface RepinOptions extends GlobalOptions {
  fingerprint?: string[];
  yes?: boolean;
  pin?: PinType;
  timeout: number;
  json?: boolean;
}

export function repinCommand(ctx: Context): Command {
  const command = new Command('repin')
    .description('Pin the certificate an endpoint presents now (after a renewal): old and new shown side by side, replaced once accepted')
    .argument('<host>', 'host name of the endpoint')
    .addOption(new Option('--fingerprint <sha256>', 'accept only the certificate with this SHA-256 fingerprint').argParser(collect).conflicts('yes'))
    .option('-y, --yes', 'trust the certificate the endpoint presents without asking')
    .addOption(new Option('--pin <kind>', "pin the certificate or its public key (default: keep the entry's)").choices(['cert', 'spki']))
    .addOption(new Option('--timeout <ms>', 'bound on connecting and the TLS handshake').argParser(parseTimeout).default(10_000))
    .option('--json', 'print the old and new pins as JSON')
    .addHelpText(
      'after',
      `
Examples:
  nbwss repin cloudhost7.nebula.com
  nbwss repin cloudhost7.nebula.com --fingerprint AB:CD:...:EF --pin spki`,
    )
    .action(async (host: string, _o, cmd: Command) => runRepin(host, cmd.optsWithGlobals<RepinOptions>(), ctx));
  return changesStore(command, { hostArgs: true });
}

export async function runRepin(host: string, options: RepinOptions, ctx: Context): Promise<void> {
  const wanted = await parseFingerprints(options.fingerprint);
  const [{ repinEndpoint }, { fetchCertificate }, { formatCertificate }] = await Promise.all([
    import('../../core/services/certs.js'),
    import('../../core/tls/fetch.js'),
    import('../output/certificate.js'),
  ]);
  const store = await ctx.openStore(options);
  try {
    const { withSpinner } = await import('../output/spinner.js');
    const result = await repinEndpoint(store, host, {
      fetch: (u, fo) => withSpinner(ctx, `Fetching the certificate of ${u.host}`, () => fetchCertificate(u, fo)),
      fetchOptions: { timeoutMs: options.timeout },
      pinType: options.pin,
      accept: async (record, cert) => {
        const parsed = new URL(record.url);
        const { summarizePem } = await import('../../core/tls/fetch.js');
        const old = summarizePem(record.certPem);
        ctx.info(
          sideBySide(
            ['pinned now', 'presented now'],
            [
              ['SHA-256', old.fingerprint, cert.fingerprint],
              ['Public key', old.spkiFingerprint, cert.spkiFingerprint],
              ['Subject', old.subject, cert.subject],
              ['Valid until', old.notAfter, cert.notAfter],
            ],
            terminalWidth(ctx),
          ),
        );
        ctx.info(
          old.spkiFingerprint === cert.spkiFingerprint
            ? 'The public key is the same (a renewal that kept the key).'
            : ctx.style.yellow('The public key is different.'),
        );
        if (cert.fingerprint === record.fingerprint) ctx.info('The endpoint still presents the pinned certificate.');
        ctx.info(formatCertificate(record.hostName, `${parsed.hostname}:${parsed.port || 443}`, cert, ctx.style, undefined, Boolean(ctx.env.NBWSS_DEBUG)));
        return makeAcceptor(ctx, options, wanted, options.pin ?? record.pinType)(record.hostName, cert, `Pin this certificate for ${record.hostName}?`);
      },
    });
    if (options.json) ctx.io.stdout.write(`${safeJson(result)}\n`);
    if (!result.changed) {
      ctx.info(
        `${result.hostName} still presents the pinned ${result.after.pinType === 'spki' ? 'public key' : 'certificate'} (SHA-256 ${result.after.pinType === 'spki' ? result.after.spkiFingerprint : result.after.fingerprint}); nothing to do.`,
      );
      return;
    }
    ctx.info(
      ctx.style.green(
        `Pinned the ${result.after.pinType === 'spki' ? 'public key' : 'certificate'} of ${result.hostName} (SHA-256 ${result.after.pinType === 'spki' ? result.after.spkiFingerprint : result.after.fingerprint}).`,
      ),
    );
    ctx.changed?.({ hosts: [result.hostName] });
  } finally {
    store.close();
  }
}
