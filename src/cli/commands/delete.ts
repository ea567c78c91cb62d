import { Command } from 'commander';
import { NbwssError } from '../../core/errors.js';
import { canPrompt } from '../io.js';
import type { Context, GlobalOptions } from '../context.js';
import { changesStore } from '../changes.js';

export interface DeleteOptions extends GlobalOptions {
  yes?: boolean;
}

export function deleteCommand(ctx: Context): Command {
  const command = new Command('delete')
    .alias('rm')
    .description('Remove saved WebSocket servers: entry, pinned certificate and token')
    .argument('<host...>', 'host names of the endpoints')
    .option('-y, --yes', 'do not ask for confirmation (needed without a terminal)')
    .addHelpText(
      'after',
      `
Examples:
  nbwss delete cloudhost7.nebula.com
  nbwss delete ep1.acme.com ep2.acme.com --yes`,
    )
    .action(async (hosts: string[], _o, cmd: Command) => runDelete(hosts, cmd.optsWithGlobals<DeleteOptions>(), ctx));
  return changesStore(command, { hostArgs: true });
}

export async function runDelete(hosts: string[], options: DeleteOptions, ctx: Context): Promise<void> {
  const { deleteEndpoints, getEndpoint } = await import('../../core/services/endpoints.js');
  const store = await ctx.openStore(options);
  try {
    const names = hosts.map((h) => getEndpoint(store, h).hostName);
    if (!options.yes) {
      if (!canPrompt(ctx.io)) {
        throw new NbwssError('USAGE', `Not deleted: deleting ${names.join(', ')} needs confirmation, and there is no terminal to ask on`, {
          hint: 'Pass --yes to delete without asking.',
        });
      }
      const ok = await (await ctx.prompter()).confirm(`Delete ${names.join(', ')} (entry, pinned certificate and token)?`, false);
      if (!ok) throw new NbwssError('CANCELLED', 'Not deleted.');
    }
    const secrets = await ctx.secrets(store, options);
    const { removed, tokensLeft } = deleteEndpoints(store, secrets, hosts);
    for (const h of removed) ctx.info(`Deleted ${h}.`);
    if (tokensLeft) {
      ctx.warn(
        `the entries are deleted, but their tokens are left in the ${secrets.name} secret store, which failed: ${tokensLeft.message}. Remove them once it answers again with: nbwss doctor --fix`,
      );
    }
    ctx.changed?.({ hosts: removed, ...(tokensLeft ? { detail: `tokens left in the ${secrets.name} secret store` } : {}) });
  } finally {
    store.close();
  }
}
