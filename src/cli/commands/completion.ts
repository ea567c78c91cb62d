import { Argument, Command } from 'commander';
import type { Context } from '../context.js';

export function completionCommand(ctx: Context, program: () => Command): Command {
  return new Command('completion')
    .description('Print the shell completion script (the same text as completions/ in the repository)')
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh', 'fish']))
    .addHelpText(
      'after',
      `
Examples:
  nbwss completion bash > ~/.local/share/bash-completion/completions/nbwss
  nbwss completion zsh > "\${fpath[1]}/_nbwss"
  nbwss completion fish > ~/.config/fish/completions/nbwss.fish`,
    )
    .action(async (shell: 'bash' | 'zsh' | 'fish') => runCompletion(shell, program(), ctx));
}

export async function runCompletion(shell: 'bash' | 'zsh' | 'fish', program: Command, ctx: Context): Promise<void> {
  const [gen, { PROPERTY_KEYS }] = await Promise.all([import('../completion.js'), import('../../core/config/properties.js')]);
  const text = { bash: gen.bashCompletion, zsh: gen.zshCompletion, fish: gen.fishCompletion }[shell](program, PROPERTY_KEYS);
  ctx.io.stdout.write(text);
}
