import { Command } from 'commander';
import { NbwssError } from '../../core/errors.js';
import type { Context, GlobalOptions } from '../context.js';
import { canPrompt } from '../io.js';
import { changesStore } from '../changes.js';

export function tokenCommand(ctx: Context): Command {
  const token = new Command('token').description('Manage endpoint tokens').addHelpText(
    'after',
    `
Example:
  nbwss token set cloudhost7.nebula.com < token.txt`,
  );
  token.addCommand(
    changesStore(
      new Command('set')
        .description('Store a new token for a saved endpoint, read from standard input (never from the command line)')
        .argument('<host>', 'host name of the endpoint')
        // A token typed after the host is refused with the way to give it, not with "too many arguments".
        .allowExcessArguments(true)
        .addHelpText(
          'after',
          `
Examples:
  nbwss token set cloudhost7.nebula.com < token.txt
  nbwss token set cloudhost7.nebula.com          # asks for it, echoed as *`,
        )
        .action(async (host: string, _o, cmd: Command) => {
          if (cmd.args.length > 1) {
            throw new NbwssError('USAGE', 'nbwss token set takes the host name only: the token is read from standard input, never from the command line', {
              hint: `A token on the command line shows in ps and in your shell history. Give it on standard input: nbwss token set ${host} < token.txt (or run it at a terminal and type it when asked).`,
            });
          }
          return runTokenSet(host, cmd.optsWithGlobals<GlobalOptions>(), ctx);
        }),
      { hostArgs: true },
    ),
  );
  return token;
}

async function readAll(stream: NodeJS.ReadableStream, limit: number): Promise<string> {
  let text = '';
  for await (const chunk of stream) {
    text += String(chunk);
    if (text.length > limit)
      throw new NbwssError('INVALID_DETAILS', 'JSON contents not valid: the token is longer than 64 KiB', { hint: 'Give the token alone on standard input.' });
  }
  return text;
}

export async function runTokenSet(host: string, options: GlobalOptions, ctx: Context): Promise<void> {
  const { setToken, getEndpoint } = await import('../../core/services/endpoints.js');
  const store = await ctx.openStore(options);
  try {
    getEndpoint(store, host); // not found before asking for a secret
    const raw = canPrompt(ctx.io) ? await (await ctx.prompter()).password(`New token for ${host}:`) : await readAll(ctx.io.stdin, 65_536);
    // One trailing newline is how files and echo end; anything else is the token's own.
    const value = raw.replace(/\r?\n$/, '');
    const secrets = await ctx.secrets(store, options);
    const name = await setToken(store, secrets, host, value);
    ctx.info(ctx.style.green(`Stored the new token of ${name} in the ${secrets.name} secret store.`));
    ctx.changed?.({ hosts: [name] });
  } finally {
    store.close();
  }
}
