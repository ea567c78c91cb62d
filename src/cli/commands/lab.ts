import { Argument, Command } from 'commander';
import type { Context } from '../context.js';

/** The stand-ins nbwss carries for trying it (dist/lab/, built from src/reference-endpoint/ and src/lab/). */
const LAB = {
  endpoint: 'Run a WebSocket endpoint as a cloud would: prints each CONNECT, NOTIFICATION and COMMAND; sends a COMMAND you type',
  primary: "Run a stand-in of a NetBackup primary's REST API (jobs, images, login) for the daemon to poll and call",
  demo: 'Run the whole system once on this machine: endpoint, primary, daemon; removes what it started',
} as const;
export type LabName = keyof typeof LAB;

export function labCommand(ctx: Context): Command {
  const lab = new Command('lab')
    .description('Try nbwss without a cloud or a primary: a local endpoint, a primary stand-in, the demo (loopback only)')
    .addHelpText(
      'after',
      `
Each runs in the foreground until Ctrl-C and talks to this machine only
(127.0.0.1). Their own options: nbwss lab endpoint --help.

Examples:
  nbwss lab demo
  nbwss lab endpoint --state-dir ~/nbwss-lab --details endpoint.json
  nbwss lab primary --state-dir ~/nbwss-lab --api-key-file ~/nbwss-lab/apikey --scenario`,
    );
  for (const [name, description] of Object.entries(LAB) as [LabName, string][])
    lab.addCommand(
      new Command(name)
        .description(description)
        // The stand-in reads its own options (and --help): everything after the name goes to it as it is.
        .helpOption(false)
        .allowUnknownOption()
        .allowExcessArguments()
        .addArgument(new Argument('[options...]', `the ${name}'s own options (nbwss lab ${name} --help)`))
        .action(async (args: string[] = []) => runLab(name, args, ctx)),
    );
  return lab;
}

/** Run a stand-in as a child on this Node, in the foreground; its exit code is ours. */
export async function runLab(name: LabName, args: string[], ctx: Context): Promise<void> {
  const [{ runStandIn }, { ExitWith }] = await Promise.all([import('../lab-run.js'), import('../exit-codes.js')]);
  const code = await runStandIn(name, args, ctx);
  if (code !== 0) throw new ExitWith(code);
}
