import { Command, Option } from 'commander';
import type { Context, GlobalOptions } from '../context.js';

export interface DaemonCliOptions extends GlobalOptions {
  logStderr?: boolean;
  foreground?: boolean;
}

export function daemonCommand(ctx: Context): Command {
  return new Command('daemon')
    .description(
      'Run the NBWSS daemon for this store: connect to the ACTIVATED endpoints by group and priority, keep the connections alive, record Connection State',
    )
    .option('--log-stderr', 'also log to stderr (JSON lines), for journald or a terminal')
    .addOption(new Option('--foreground', 'the former name of --log-stderr').hideHelp())
    .addHelpText(
      'after',
      `
The daemon always stays in the foreground (as systemd expects); it runs until
SIGTERM or SIGINT (connections closed with a normal close code, exit 0).
SIGHUP re-reads nbwss.properties and reconciles. One daemon per store.
Logs: NBWSS_HOME/logs/nbwss.log (JSON lines; never a token).

In the background:
  systemctl enable --now nbwss                 # as root, contrib/nbwss.service
  systemd-run --user --unit nbwss nbwss daemon # as yourself, until logout
  nohup nbwss daemon >/dev/null 2>&1 &         # anywhere

Examples:
  nbwss daemon --log-stderr`,
    )
    .action(async (_o, cmd: Command) => runDaemonCommand(cmd.optsWithGlobals<DaemonCliOptions>(), ctx));
}

export async function runDaemonCommand(options: DaemonCliOptions, ctx: Context): Promise<void> {
  const [{ runDaemon }, { storeUrl }] = await Promise.all([import('../../daemon/run.js'), import('../../core/store/db.js')]);
  const running = await runDaemon({
    home: ctx.home(options),
    storeUrl: storeUrl(options.store, ctx.env),
    logStderr: Boolean(options.logStderr || options.foreground),
    openSecrets: (store) => ctx.secrets(store, options),
    stderr: ctx.io.stderr as NodeJS.WritableStream,
  });
  await running.stopped;
}
