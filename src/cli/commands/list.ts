import { Command, Option } from 'commander';
import type { Context, GlobalOptions } from '../context.js';

export interface ListOptions extends GlobalOptions {
  json?: boolean;
  group?: string;
  state?: 'activated' | 'deactivated';
}

export function listCommand(ctx: Context): Command {
  return new Command('list')
    .alias('ls')
    .description('List the saved WebSocket servers, by group then priority')
    .option('--json', 'print a JSON array')
    .option('--group <id>', 'only endpoints of this group')
    .addOption(new Option('--state <state>', 'only ACTIVATED or DEACTIVATED endpoints').choices(['activated', 'deactivated']))
    .addHelpText('after', `
Examples:
  nbwss list
  nbwss list --group sg1 --state activated
  nbwss list --json | jq -r '.[].hostName'`)
    .action(async (_o, cmd: Command) => runList(cmd.optsWithGlobals<ListOptions>(), ctx));
}

export async function runList(o: ListOptions, ctx: Context): Promise<void> {
  const store = await ctx.openStore(o);
  try {
    const rows = store.list({ groupId: o.group, state: o.state ? (o.state.toUpperCase() as 'ACTIVATED' | 'DEACTIVATED') : undefined });
    const { endpointJson, LIST_HEAD, listRow } = await import('../output/endpoint.js');
    if (o.json) {
      ctx.io.stdout.write(`${JSON.stringify(rows.map(endpointJson), null, 2)}\n`);
      return;
    }
    if (rows.length === 0) {
      ctx.info(o.group || o.state ? 'No saved WebSocket server matches.' : 'No WebSocket servers are saved. Add one with: nbwss add --file endpoint.json');
      return;
    }
    const { renderTable } = await import('../output/table.js');
    ctx.io.stdout.write(`${renderTable(LIST_HEAD, rows.map(listRow), ctx.io.colorOut)}\n`);
  } finally {
    store.close();
  }
}
