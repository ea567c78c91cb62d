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

export async function runShow(host: string, o: ShowOptions, ctx: Context): Promise<void> {
  const [{ showEndpoint, notFound }, { endpointJson }] = await Promise.all([import('../../core/services/endpoints.js'), import('../output/endpoint.js')]);
  // Read-only: showing never creates or changes a store.
  const store = await ctx.readStore(o);
  if (!store) throw notFound(host);
  try {
    const secrets = o.showToken && store.endpoints.get(host) ? await ctx.secrets(store, o) : undefined;
    const v = showEndpoint(store, host, secrets);
    const r = v.record;
    const data = {
      ...endpointJson(r),
      ...(o.showToken ? { url: r.url } : {}),
      pinType: r.pinType,
      spkiFingerprint: r.spkiFingerprint,
      certificate: {
        subject: v.certificate.subject,
        issuer: v.certificate.issuer,
        sans: v.certificate.sans,
        notBefore: v.certificate.notBefore,
        notAfter: v.certificate.notAfter,
      },
      connectionSince: r.connectionSince,
      lastError: r.lastError,
      createdAt: r.createdAt,
      updatedAt: r.updatedAt,
      ...(v.token !== undefined ? { token: v.token } : {}),
    };
    if (o.json) {
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
        `${data.connectionState}${r.connectionSince ? ` since ${r.connectionSince}` : ''}${r.lastError ? ` (last error: ${r.lastError})` : ''}`,
      ],
      ['Token', v.token ?? '******** (use --show-token to view)'],
      // Two lines: a fingerprint is 95 characters, and one line with its label and kind would pass 120 columns.
      ['Pinned', r.pinType === 'spki' ? "the certificate's public key" : 'the certificate'],
      ['Pin SHA-256', r.pinType === 'spki' ? r.spkiFingerprint : r.fingerprint],
      ['Subject', data.certificate.subject],
      ['Issuer', data.certificate.issuer],
      ['SANs', data.certificate.sans.join(', ') || '(none)'],
      ['Valid', `${data.certificate.notBefore} to ${data.certificate.notAfter}`],
      ['Added', r.createdAt],
      ['Updated', r.updatedAt],
    ];
    ctx.io.stdout.write(`${lines.map(([k, val]) => `${`${k}:`.padEnd(18)}${safeText(val)}`).join('\n')}\n`);
  } finally {
    store.close();
  }
}
