import { Command } from 'commander';
import { NbwssError } from '../../core/errors.js';
import type { Context, GlobalOptions } from '../context.js';
import { loadDetails, sourceConflict, type SourceOptions } from '../details-input.js';
import { sourceOptions } from './add.js';
import { safeJson } from '../../core/text.js';
import { serverInformation } from '../output/endpoint.js';

export interface ValidateOptions extends GlobalOptions, SourceOptions {
  json?: boolean;
}

export function validateCommand(ctx: Context): Command {
  const command = new Command('validate').description(
    "Everything add does before saving, and nothing written: details checked, certificate fetched and shown (the dialog's Validate button)",
  );
  sourceOptions(command);
  return command
    .option('--json', 'print {details (token masked), certificate, warnings} as JSON')
    .addHelpText(
      'after',
      `
Examples:
  nbwss validate --file endpoint.json
  nbwss validate --url 'https://cloud.example.com/nbu/details?otp=...' --json`,
    )
    .action(async (_o, cmd: Command) => runValidate(cmd.optsWithGlobals<ValidateOptions>(), ctx));
}

export async function runValidate(options: ValidateOptions, ctx: Context): Promise<void> {
  sourceConflict(options);
  if (options.file === undefined && options.url === undefined) {
    throw new NbwssError('USAGE', 'nbwss validate needs the endpoint details: --file PATH (- for standard input) or --url URL', {
      hint: 'Example: nbwss validate --file endpoint.json',
    });
  }
  const warnings: string[] = [];
  const collecting: Context = {
    ...ctx,
    warn: (message) => {
      warnings.push(message);
      ctx.warn(message);
    },
  };
  const loaded = await loadDetails(options, collecting);
  const [{ fetchCertificate }, { formatCertificate }, { entityExists }, { maskUrl, parseWssUrl }, { FETCH_CONCURRENCY, mapLimit }] = await Promise.all([
    import('../../core/tls/fetch.js'),
    import('../output/certificate.js'),
    import('../../core/services/add.js'),
    import('../../core/endpoint/url.js'),
    import('../../core/services/limit.js'),
  ]);
  // Read the store only if there is one: validate writes nothing, not even a new store.
  const store = await ctx.readStore(options);
  try {
    for (const d of loaded.endpoints) if (store?.endpoints.get(d.hostName)) throw entityExists(d.hostName);
  } finally {
    store?.close();
  }
  const { withSpinner } = await import('../output/spinner.js');
  const results = await withSpinner(ctx, `Fetching the certificate${loaded.endpoints.length > 1 ? 's' : ''}`, () =>
    mapLimit(loaded.endpoints, FETCH_CONCURRENCY, async (details) => ({
      details,
      cert: await fetchCertificate(parseWssUrl(details.url), { timeoutMs: options.timeout }),
    })),
  );
  const { certificateWeaknesses } = await import('../../core/tls/fetch.js');
  for (const { details, cert } of results) for (const w of certificateWeaknesses(cert.pem)) collecting.warn(`the certificate of ${details.hostName}: ${w}`);
  const out = results.map(({ details, cert }) => {
    const { pem: _pem, ...certificate } = cert;
    return { details: { ...details, token: '********', url: maskUrl(details.url) }, certificate };
  });
  if (options.json) {
    const body = out.map((x) => ({ ...x, warnings }));
    ctx.io.stdout.write(`${safeJson(body.length === 1 ? body[0] : body)}\n`);
    return;
  }
  for (const { details, cert } of results) {
    const parsed = new URL(details.url);
    ctx.io.stdout.write(
      `${[
        serverInformation(details),
        formatCertificate(details.hostName, `${parsed.hostname}:${parsed.port || 443}`, cert, ctx.style, undefined, Boolean(ctx.env.NBWSS_DEBUG)),
      ].join('\n')}\n`,
    );
  }
  ctx.info(ctx.style.green(`Valid: nbwss add would save ${loaded.endpoints.map((d) => d.hostName).join(', ')} once the certificate is accepted.`));
}
