import { Command, Option } from 'commander';
import type { Context, GlobalOptions } from '../context.js';
import { safeJson, safeText } from '../../core/text.js';

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

export function statusCommand(ctx: Context): Command {
  return new Command('status')
    .description('Is a daemon running for this store (pid, uptime, properties in force), and per group which endpoint is connected since when')
    .option('--json', 'print JSON ({running: false} when no daemon runs)')
    .addHelpText(
      'after',
      `
Examples:
  nbwss status
  nbwss status --json | jq '.groups[] | {groupId, connected}'`,
    )
    .action(async (_o, cmd: Command) => runStatus(cmd.optsWithGlobals<GlobalOptions & { json?: boolean }>(), ctx));
}

export async function runDaemonCommand(o: DaemonCliOptions, ctx: Context): Promise<void> {
  const { runDaemon } = await import('../../daemon/run.js');
  const running = await runDaemon({
    home: ctx.home(o),
    logStderr: Boolean(o.logStderr || o.foreground),
    openSecrets: (store) => ctx.secrets(store, o),
    stderr: ctx.io.stderr as NodeJS.WritableStream,
  });
  await running.stopped;
}

export async function runStatus(o: GlobalOptions & { json?: boolean }, ctx: Context): Promise<void> {
  const { askDaemon } = await import('../../core/daemon-client.js');
  const s = await askDaemon<{
    pid: number;
    startedAt: string;
    uptimeSeconds: number;
    secretStore: string;
    properties: Record<string, unknown>;
    groups: {
      groupId: string;
      connected: string | null;
      since: string | null;
      endpoints: { hostName: string; priority: number; connection: string; lastError: string | null }[];
    }[];
  }>(ctx.home(o), { cmd: 'status' });
  if (o.json) return void ctx.io.stdout.write(`${safeJson(s ? { running: true, ...s, ok: undefined } : { running: false })}\n`);
  if (!s) return void ctx.io.stdout.write('daemon: not running (start it with: nbwss daemon, or systemctl start nbwss)\n');
  const lines = [
    `daemon: running, pid ${s.pid}, up ${s.uptimeSeconds}s (since ${s.startedAt}), ${s.secretStore} secret store`,
    `properties: ${Object.entries(s.properties)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  ];
  if (s.groups.length === 0) lines.push('no ACTIVATED endpoints');
  for (const grp of s.groups) {
    lines.push(`group ${grp.groupId}: ${grp.connected ? `connected to ${grp.connected} since ${grp.since}` : 'not connected'}`);
    for (const e of grp.endpoints)
      lines.push(`  ${String(e.priority).padStart(3)}  ${e.hostName}  ${e.connection}${e.lastError ? `  (last error: ${e.lastError})` : ''}`);
  }
  ctx.io.stdout.write(`${lines.map(safeText).join('\n')}\n`);
}
