import { Command } from 'commander';
import type { Context, GlobalOptions } from '../context.js';
import { changesStore } from '../changes.js';

export function stateCommand(ctx: Context, verb: 'activate' | 'deactivate'): Command {
  const command = new Command(verb)
    .description(verb === 'activate' ? 'Activate endpoints: NBWSS may connect to them' : 'Deactivate endpoints: NBWSS does not connect to them')
    .argument('<host...>', 'host names of the endpoints')
    .addHelpText(
      'after',
      `
Example:
  nbwss ${verb} cloudhost7.nebula.com`,
    )
    .action(async (hosts: string[], _o, cmd: Command) => runState(verb, hosts, cmd.optsWithGlobals<GlobalOptions>(), ctx));
  return changesStore(command, { hostArgs: true });
}

export async function runState(verb: 'activate' | 'deactivate', hosts: string[], globals: GlobalOptions, ctx: Context): Promise<void> {
  const state = verb === 'activate' ? 'ACTIVATED' : 'DEACTIVATED';
  const { setEndpointState } = await import('../../core/services/endpoints.js');
  const store = await ctx.openStore(globals);
  try {
    const changes = setEndpointState(store, hosts, state);
    for (const c of changes) ctx.info(c.changed ? `${c.hostName} is now ${state}.` : `${c.hostName} was already ${state}.`);
    ctx.changed?.({ hosts: changes.map((c) => c.hostName) });
  } finally {
    store.close();
  }
}
