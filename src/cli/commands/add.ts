import { Command, Option } from 'commander';
import { NbwssError } from '../../core/errors.js';
import type { LoadedDetails } from '../../core/endpoint/details.js';
import type { EndpointState, PinType } from '../../core/store/db.js';
import { makeAcceptor, parseFingerprints } from '../accept.js';
import type { Context, GlobalOptions } from '../context.js';
import { loadDetails, sourceConflict, type SourceOptions } from '../details-input.js';
import { canPrompt } from '../io.js';
import { collect, parseTimeout } from '../options.js';
import { safeJson } from '../../core/text.js';
import { maskUrl } from '../../core/endpoint/url.js';
import { changesStore } from '../changes.js';

export interface AddOptions extends GlobalOptions, SourceOptions {
  fingerprint?: string[];
  yes?: boolean;
  deactivated?: boolean;
  replace?: boolean;
  pin: PinType;
  json?: boolean;
}

export const sourceOptions = (command: Command) =>
  command
    .addOption(new Option('-f, --file <path>', 'endpoint details JSON file; - reads standard input'))
    .addOption(new Option('-u, --url <url>', "https URL that serves the endpoint details (the dialog's URL option); - reads it from standard input"))
    .addOption(new Option('--ca-file <pem>', 'trust this CA for --url too (repeatable; NODE_EXTRA_CA_CERTS is honoured)').argParser(collect))
    .addOption(new Option('--timeout <ms>', 'bound on connecting, the TLS handshake and a stalled answer').argParser(parseTimeout).default(10_000));

export const acceptOptions = (command: Command) =>
  command
    .addOption(
      new Option(
        '--fingerprint <sha256>',
        'accept only the certificate with this SHA-256 fingerprint (hex, any case, colons optional; or SHA256:base64); repeat for several endpoints',
      )
        .argParser(collect)
        .conflicts('yes'),
    )
    .option('-y, --yes', 'trust the certificate the endpoint presents without asking')
    .addOption(
      new Option('--pin <kind>', 'pin the certificate, or its public key (spki: survives renewals that keep the key)')
        .choices(['cert', 'spki'])
        .default('cert'),
    );

export function addCommand(ctx: Context): Command {
  const command = new Command('add').description(
    "Save WebSocket endpoint credentials from endpoint details (the dialog's Validate + Add Host); with no source on a terminal, a wizard",
  );
  sourceOptions(command);
  acceptOptions(command);
  changesStore(command, { name: (o) => (o.replace ? 'add --replace' : 'add') });
  return command
    .option('--deactivated', 'save the endpoint DEACTIVATED (the daemon will not connect to it)')
    .option('--replace', 're-add hosts that exist with new details and token, keeping their state (token expired, endpoint moved)')
    .option('--json', 'print the saved endpoints as JSON')
    .addHelpText(
      'after',
      `
Examples:
  nbwss add                                          # the wizard (on a terminal)
  nbwss add --file endpoint.json                     # shows the certificate, asks to trust it
  printf '%s\\n' "$DETAILS_URL" | nbwss add --url - --fingerprint AB:CD:...:EF   # the URL's one-time secret stays out of ps
  cat endpoints.json | nbwss add --file - --yes --json
  nbwss add --file renewed.json --replace --yes      # new token for an existing host`,
    )
    .action(async (_o, cmd: Command) => runAdd(cmd.optsWithGlobals<AddOptions>(), ctx));
}

export async function runAdd(options: AddOptions, ctx: Context): Promise<void> {
  sourceConflict(options);
  const wanted = await parseFingerprints(options.fingerprint);
  const wizard = options.file === undefined && options.url === undefined;
  if (wizard && !canPrompt(ctx.io)) {
    throw new NbwssError('USAGE', 'nbwss add needs the endpoint details: --file PATH (- for standard input) or --url URL', {
      hint: 'Without a terminal there is no wizard. Example: nbwss add --file endpoint.json --fingerprint <SHA-256>',
    });
  }
  const loaded = wizard ? await (await import('../wizard.js')).askForDetails(ctx, options) : await loadDetails(options, ctx);
  // The hosts are known from here on: the audit line names them even if the add fails.
  ctx.changed?.({ hosts: loaded.endpoints.map((d) => d.hostName) });
  await ctx.probeBeforeCreating?.(options);

  const [{ addEndpoints }, { fetchCertificate }, { formatCertificate }, { withSpinner }] = await Promise.all([
    import('../../core/services/add.js'),
    import('../../core/tls/fetch.js'),
    import('../output/certificate.js'),
    import('../output/spinner.js'),
  ]);
  const store = await ctx.openStore(options);
  try {
    const secrets = await ctx.secrets(store, options);
    const acceptor = makeAcceptor(ctx, options, wanted, options.pin);
    let state: EndpointState | (() => Promise<EndpointState>) = options.deactivated ? 'DEACTIVATED' : 'ACTIVATED';
    if (wizard && !options.deactivated) {
      state = async () => ((await (await ctx.prompter()).confirm('Activate now (the daemon may connect to it)?', true)) ? 'ACTIVATED' : 'DEACTIVATED');
    }
    const added = await addEndpoints({
      store,
      secrets,
      endpoints: loaded.endpoints,
      replace: options.replace,
      accept: async (cand) => {
        const parsed = new URL(cand.details.url);
        ctx.info(
          formatCertificate(
            cand.details.hostName,
            `${parsed.hostname}:${parsed.port || 443}`,
            cand.certificate,
            ctx.style,
            undefined,
            Boolean(ctx.env.NBWSS_DEBUG),
          ),
        );
        return acceptor(
          cand.details.hostName,
          cand.certificate,
          wizard ? `Trust this certificate and Add Host ${cand.details.hostName}?` : `Trust this certificate and save ${cand.details.hostName}?`,
        );
      },
      // A spinner on a terminal while one endpoint's certificate is fetched (several fetch at once, silently).
      fetch:
        loaded.endpoints.length === 1 ? (u, fo) => withSpinner(ctx, `Fetching the certificate of ${u.host}`, () => fetchCertificate(u, fo)) : fetchCertificate,
      fetchOptions: { timeoutMs: options.timeout },
      state,
      pinType: options.pin,
    });
    if (options.json) ctx.io.stdout.write(`${safeJson(added.map((a) => ({ ...a, url: maskUrl(a.url) })))}\n`);
    for (const a of added) {
      ctx.info(
        ctx.style.green(
          `${a.replaced ? 'Replaced' : 'Added'} ${a.hostName} (group ${a.groupId}, priority ${a.priority}, ${a.state}); token saved in the ${secrets.name} secret store.`,
        ),
      );
    }
    ctx.changed?.({ hosts: added.map((a) => a.hostName) });
  } finally {
    store.close();
  }
}

export type { LoadedDetails };
