import { Command, Option } from 'commander';
import { NbwssError } from '../../core/errors.js';
import type { Context, GlobalOptions } from '../context.js';
import { safeJson } from '../../core/text.js';

export interface ListOptions extends GlobalOptions {
  json?: boolean;
  names?: boolean;
  group?: string;
  state?: 'activated' | 'deactivated';
}

export function listCommand(ctx: Context): Command {
  return new Command('list')
    .alias('ls')
    .description('List the saved WebSocket servers, by group then priority')
    .option('--json', 'print a JSON array')
    .option('-q, --names', 'print only the host names, one per line (for loops and shell completion)')
    .option('--group <id>', 'only endpoints of this group')
    .addOption(new Option('--state <state>', 'only ACTIVATED or DEACTIVATED endpoints').choices(['activated', 'deactivated']))
    .addHelpText(
      'after',
      `
Examples:
  nbwss list
  nbwss list --group sg1 --state activated
  nbwss list --json | jq -r '.[].hostName'
  for h in $(nbwss list -q --state deactivated); do nbwss activate "$h"; done`,
    )
    .action(async (_o, cmd: Command) => runList(cmd.optsWithGlobals<ListOptions>(), ctx));
}

export async function runList(options: ListOptions, ctx: Context): Promise<void> {
  if (options.names && options.json)
    throw new NbwssError('USAGE', '--names and --json cannot be used together', { hint: 'Use --json for details, --names for host names only.' });
  const filter = { groupId: options.group, state: options.state ? (options.state.toUpperCase() as 'ACTIVATED' | 'DEACTIVATED') : undefined };
  // Read-only: listing never creates or changes a store (completion runs list --names on every TAB).
  const store = await ctx.readStore(options);
  try {
    if (options.json) {
      const { endpointJson } = await import('../output/endpoint.js');
      ctx.io.stdout.write(`${safeJson((store?.endpoints.list(filter) ?? []).map(endpointJson))}\n`);
      return;
    }
    // The table and the names need no pin: fewer columns read (completion runs list --names on every TAB).
    const rows = store?.endpoints.listRows(filter) ?? [];
    if (options.names) {
      if (rows.length) ctx.io.stdout.write(`${rows.map((r) => r.hostName).join('\n')}\n`);
      return;
    }
    const { LIST_HEAD, listRow } = await import('../output/endpoint.js');
    if (rows.length === 0) {
      ctx.info(
        options.group || options.state ? 'No saved WebSocket server matches.' : 'No WebSocket servers are saved. Add one with: nbwss add --file endpoint.json',
      );
      return;
    }
    const { renderTable } = await import('../output/table.js');
    ctx.io.stdout.write(`${await renderTable(LIST_HEAD, rows.map(listRow), ctx.io)}\n`);
  } finally {
    store?.close();
  }
}
