import { Command } from 'commander';
import type { Context, GlobalOptions } from '../context.js';
import { safeJson, safeText } from '../../core/text.js';

export interface ShowOptions extends GlobalOptions {
  json?: boolean;
  showToken?: boolean;
}

export function showCommand(ctx: Context): Command {
  return new Command('show')
    .description('Show one saved WebSocket server with its pinned certificate')
    .argument('<host>', 'host name of the endpoint (any case)')
    .option('--json', 'print JSON')
    .option('--show-token', 'also print the token and the full URL (the dialog\'s "Token: View")')
    .addHelpText(
      'after',
      `
Examples:
  nbwss show cloudhost7.nebula.com
  nbwss show cloudhost7.nebula.com --json --show-token`,
    )
    .action(async (host: string, _o, cmd: Command) => runShow(host, cmd.optsWithGlobals<ShowOptions>(), ctx));
}

export async function runShow(host: string, options: ShowOptions, ctx: Context): Promise<void> {
  const [{ showEndpoint, notFound }, { endpointJson }] = await Promise.all([import('../../core/services/endpoints.js'), import('../output/endpoint.js')]);
  // Read-only: showing never creates or changes a store.
  const store = await ctx.readStore(options);
  if (!store) throw notFound(host);
  try {
    const secrets = options.showToken && store.endpoints.get(host) ? await ctx.secrets(store, options) : undefined;
    const view = showEndpoint(store, host, secrets);
    const record = view.record;
    const data = {
      ...endpointJson(record),
      ...(options.showToken ? { url: record.url } : {}),
      pinType: record.pinType,
      spkiFingerprint: record.spkiFingerprint,
      certificate: {
        subject: view.certificate.subject,
        issuer: view.certificate.issuer,
        sans: view.certificate.sans,
        notBefore: view.certificate.notBefore,
        notAfter: view.certificate.notAfter,
      },
      connectionSince: record.connectionSince,
      lastError: record.lastError,
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
      ...(view.token !== undefined ? { token: view.token } : {}),
    };
    if (options.json) {
      ctx.io.stdout.write(`${safeJson(data)}\n`);
      return;
    }
    const lines: [string, string][] = [
      ['Host Name', data.hostName],
      ['URL', data.url],
      ['Group ID', data.groupId],
      ['Priority', String(data.priority)],
      ['State', data.state],
      [
        'Connection State',
        `${data.connectionState}${record.connectionSince ? ` since ${record.connectionSince}` : ''}${record.lastError ? ` (last error: ${record.lastError})` : ''}`,
      ],
      ['Token', view.token ?? '******** (use --show-token to view)'],
      // Two lines: a fingerprint is 95 characters, and one line with its label and kind would pass 120 columns.
      ['Pinned', record.pinType === 'spki' ? "the certificate's public key" : 'the certificate'],
      ['Pin SHA-256', record.pinType === 'spki' ? record.spkiFingerprint : record.fingerprint],
      ['Subject', data.certificate.subject],
      ['Issuer', data.certificate.issuer],
      ['SANs', data.certificate.sans.join(', ') || '(none)'],
      ['Valid', `${data.certificate.notBefore} to ${data.certificate.notAfter}`],
      ['Added', record.createdAt],
      ['Updated', record.updatedAt],
    ];
    ctx.io.stdout.write(`${lines.map(([k, val]) => `${`${k}:`.padEnd(18)}${safeText(val)}`).join('\n')}\n`);
  } finally {
    store.close();
  }
}
