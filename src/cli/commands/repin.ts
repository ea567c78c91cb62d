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

export async function runRepin(host: string, o: RepinOptions, ctx: Context): Promise<void> {
  const wanted = await parseFingerprints(o.fingerprint);
  const [{ repinEndpoint }, { fetchCertificate }, { formatCertificate }] = await Promise.all([
    import('../../core/services/certs.js'),
    import('../../core/tls/fetch.js'),
    import('../output/certificate.js'),
  ]);
  const store = await ctx.openStore(o);
  try {
    const { withSpinner } = await import('../output/spinner.js');
    const result = await repinEndpoint(store, host, {
      fetch: (u, fo) => withSpinner(ctx, `Fetching the certificate of ${u.host}`, () => fetchCertificate(u, fo)),
      fetchOptions: { timeoutMs: o.timeout },
      pinType: o.pin,
      accept: async (r, c) => {
        const u = new URL(r.url);
        const { summarizePem } = await import('../../core/tls/fetch.js');
        const old = summarizePem(r.certPem);
        ctx.info(
          sideBySide(
            ['pinned now', 'presented now'],
            [
              ['SHA-256', old.fingerprint, c.fingerprint],
              ['Public key', old.spkiFingerprint, c.spkiFingerprint],
              ['Subject', old.subject, c.subject],
              ['Valid until', old.notAfter, c.notAfter],
            ],
            terminalWidth(ctx),
          ),
        );
        ctx.info(
          old.spkiFingerprint === c.spkiFingerprint
            ? 'The public key is the same (a renewal that kept the key).'
            : ctx.style.yellow('The public key is different.'),
        );
        if (c.fingerprint === r.fingerprint) ctx.info('The endpoint still presents the pinned certificate.');
        ctx.info(formatCertificate(r.hostName, `${u.hostname}:${u.port || 443}`, c, ctx.style, undefined, Boolean(ctx.env.NBWSS_DEBUG)));
        return makeAcceptor(ctx, o, wanted, o.pin ?? r.pinType)(r.hostName, c, `Pin this certificate for ${r.hostName}?`);
      },
    });
    if (o.json) ctx.io.stdout.write(`${safeJson(result)}\n`);
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
