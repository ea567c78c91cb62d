import { Command, Option } from 'commander';
import { GUIDE, NbwssError } from '../../core/errors.js';
import type { Candidate } from '../../core/services/add.js';
import { canPrompt } from '../io.js';
import type { Context, GlobalOptions } from '../context.js';
import { collect, parseTimeout } from '../options.js';

export interface AddOptions extends GlobalOptions {
  file?: string;
  fingerprint?: string[];
  yes?: boolean;
  deactivated?: boolean;
  json?: boolean;
  timeout: number;
}

export function addCommand(ctx: Context): Command {
  return new Command('add')
    .description('Save WebSocket endpoint credentials from an endpoint details file (the dialog\'s Validate + Add Host)')
    .addOption(new Option('-f, --file <path>', 'endpoint details JSON file; - reads standard input'))
    .addOption(new Option('--fingerprint <sha256>', 'accept only the certificate with this SHA-256 fingerprint (hex, any case, colons optional; or SHA256:base64); repeat for several endpoints').argParser(collect).conflicts('yes'))
    .option('-y, --yes', 'trust the certificate the endpoint presents without asking')
    .option('--deactivated', 'save the endpoint DEACTIVATED (the daemon will not connect to it)')
    .option('--json', 'print the saved endpoints as JSON')
    .addOption(new Option('--timeout <ms>', 'bound on connecting and the TLS handshake').argParser(parseTimeout).default(10_000))
    .addHelpText('after', `
Examples:
  nbwss add --file endpoint.json                     # shows the certificate, asks to trust it
  nbwss add --file endpoint.json --fingerprint AB:CD:...:EF
  cat endpoints.json | nbwss add --file - --yes --json`)
    .action(async (_o, cmd: Command) => runAdd(cmd.optsWithGlobals<AddOptions>(), ctx));
}

export async function runAdd(o: AddOptions, ctx: Context): Promise<void> {
  if (!o.file) {
    throw new NbwssError('USAGE', 'nbwss add needs the endpoint details: --file PATH (or --file - for standard input)', {
      hint: 'Example: nbwss add --file endpoint.json',
    });
  }
  const [{ parseDetails }, source, { parseFingerprint }, { addEndpoints }, { fetchCertificate }] = await Promise.all([
    import('../../core/endpoint/details.js'),
    import('../../core/endpoint/source.js'),
    import('../../core/tls/fingerprint.js'),
    import('../../core/services/add.js'),
    import('../../core/tls/fetch.js'),
  ]);

  const wanted = (o.fingerprint ?? []).map((f) => {
    const fp = parseFingerprint(f);
    if (!fp) throw new NbwssError('USAGE', `--fingerprint ${f} is not a SHA-256 fingerprint`, { hint: 'Give 64 hex digits (colons optional), as openssl x509 -fingerprint -sha256 prints them, or SHA256:<base64>.' });
    return fp;
  });

  const input = o.file === '-' ? await source.readDetailsStream(ctx.io.stdin) : source.readDetailsFile(o.file);
  input.warnings.forEach((w) => ctx.warn(w));
  const loaded = parseDetails(input.bytes);
  loaded.warnings.forEach((w) => ctx.warn(w));

  const store = await ctx.openStore(o);
  try {
    const secrets = await ctx.secrets(store, o);
    const { formatCertificate } = await import('../output/certificate.js');
    const accept = async (c: Candidate): Promise<boolean> => {
      const u = new URL(c.details.url);
      ctx.info(formatCertificate(c.details.hostName, `${u.hostname}:${u.port || 443}`, c.certificate, ctx.style));
      if (wanted.length > 0) {
        if (wanted.includes(c.certificate.fingerprint)) return true;
        throw new NbwssError('CERTIFICATE', GUIDE.certMismatch, {
          hint: `${c.details.hostName} presents ${c.certificate.fingerprint}, which is not the --fingerprint given. Verify the certificate with the cloud provider.`,
        });
      }
      if (o.yes) {
        ctx.warn(`trusting the certificate presented by ${c.details.hostName} (SHA-256 ${c.certificate.fingerprint}) without asking, because of --yes`);
        return true;
      }
      if (!canPrompt(ctx.io)) {
        throw new NbwssError('CERTIFICATE', `Not saved: the certificate of ${c.details.hostName} must be accepted, and there is no terminal to ask on`, {
          hint: `Verify the fingerprint, then pass --fingerprint ${c.certificate.fingerprint} (or --yes to trust what is presented).`,
        });
      }
      return (await ctx.prompter()).confirm(`Trust this certificate and save ${c.details.hostName}?`, false);
    };
    const added = await addEndpoints({
      store,
      secrets,
      endpoints: loaded.endpoints,
      accept,
      fetch: fetchCertificate,
      fetchOptions: { timeoutMs: o.timeout },
      state: o.deactivated ? 'DEACTIVATED' : 'ACTIVATED',
    });
    if (o.json) ctx.io.stdout.write(`${JSON.stringify(added, null, 2)}\n`);
    for (const a of added) ctx.info(ctx.style.green(`Added ${a.hostName} (group ${a.groupId}, priority ${a.priority}, ${a.state}); token saved in the ${secrets.name} secret store.`));
  } finally {
    store.close();
  }
}
