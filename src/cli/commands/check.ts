import { Command, InvalidArgumentError } from 'commander';
import { NbwssError } from '../../core/errors.js';
import type { Context, GlobalOptions } from '../context.js';
import { parseTimeout } from '../options.js';
import { safeJson } from '../../core/text.js';

export interface CheckOptions extends GlobalOptions {
  days: number;
  json?: boolean;
  timeout: number;
}

const parseDays = (value: string) => {
  if (!/^[0-9]+$/.test(value) || Number(value) > 3650) throw new InvalidArgumentError('expected a whole number of days from 0 to 3650.');
  return Number(value);
};

export function checkCommand(ctx: Context): Command {
  return new Command('check')
    .description(
      "Fetch each endpoint's certificate and report OK, CHANGED, EXPIRING, EXPIRED or UNREACHABLE; exit 0 only if all are OK (for cron and monitoring)",
    )
    .argument('[host...]', 'host names (default: all)')
    .option('--days <n>', 'EXPIRING when the certificate expires within this many days', parseDays, 30)
    .option('--timeout <ms>', 'bound on connecting and the TLS handshake', parseTimeout, 10_000)
    .option('--json', 'print a JSON array')
    .addHelpText(
      'after',
      `
Exit status: 0 all OK; 4 some endpoint UNREACHABLE; 5 some certificate CHANGED, EXPIRED or EXPIRING (and none unreachable).

Examples:
  nbwss check
  nbwss check cloudhost7.nebula.com --days 14 --json`,
    )
    .action(async (hosts: string[], _o, cmd: Command) => runCheck(hosts, cmd.optsWithGlobals<CheckOptions>(), ctx));
}

export async function runCheck(hosts: string[], options: CheckOptions, ctx: Context): Promise<void> {
  const [{ checkEndpoints }, { fetchCertificate }] = await Promise.all([import('../../core/services/certs.js'), import('../../core/tls/fetch.js')]);
  const store = await ctx.readStore(options);
  if (!store) {
    if (hosts.length) throw (await import('../../core/services/endpoints.js')).notFound(hosts[0]!);
    return options.json ? void ctx.io.stdout.write('[]\n') : ctx.info('No WebSocket servers are saved.');
  }
  let results: Awaited<ReturnType<typeof checkEndpoints>>;
  try {
    const { withSpinner } = await import('../output/spinner.js');
    results = await withSpinner(ctx, 'Checking certificates', () =>
      checkEndpoints(store, hosts, { days: options.days, fetch: fetchCertificate, fetchOptions: { timeoutMs: options.timeout } }),
    );
  } finally {
    store.close();
  }
  if (options.json) ctx.io.stdout.write(`${safeJson(results)}\n`);
  else if (results.length === 0) ctx.info('No WebSocket servers are saved.');
  else {
    const { renderTable } = await import('../output/table.js');
    const paint = (s: string) => (s === 'OK' ? ctx.style.green(s) : s === 'EXPIRING' ? ctx.style.yellow(s) : ctx.style.red(s));
    ctx.io.stdout.write(
      `${await renderTable(
        ['Host Name', 'Status', 'Detail'],
        results.map((r) => [r.hostName, ctx.io.colorOut ? paint(r.status) : r.status, r.detail]),
        ctx.io,
      )}\n`,
    );
  }
  const bad = results.filter((r) => r.status !== 'OK');
  if (bad.length === 0) return;
  const code = bad.some((r) => r.status === 'UNREACHABLE') ? 'NETWORK' : 'CERTIFICATE';
  throw new NbwssError(
    code,
    `${bad.length} of ${results.length} endpoint${results.length === 1 ? '' : 's'} not OK: ${bad.map((r) => `${r.hostName} ${r.status}`).join(', ')}`,
    {
      hint: bad.some((r) => r.status === 'CHANGED') ? 'For a CHANGED certificate, verify it with the cloud provider, then run: nbwss repin HOST' : undefined,
    },
  );
}
