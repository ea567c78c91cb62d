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
    api?: { baseUrl: string; trust: string };
    groups: {
      groupId: string;
      connected: string | null;
      since: string | null;
      endpoints: { hostName: string; priority: number; connection: string; lastError: string | null }[];
      notifications?: {
        pending: number;
        oldestPendingAgeSeconds: number | null;
        inFlight: { id: string; count: number; attempts: number; since: string } | null;
        acknowledged: number;
        lastAcknowledgedAt: string | null;
        refused: number;
        dropped: number;
      };
    }[];
  }>(ctx.home(o), { cmd: 'status' });
  if (!s) {
    // No daemon: what waits in the store is still worth knowing.
    const store = await ctx.readStore(o);
    let outbox: { groupId: string; pending: number; oldestAcceptedAt: string | null; refused: number }[] = [];
    try {
      outbox = store && store.schemaVersion >= 3 ? store.outbox.groups().filter((g) => g.pending > 0 || g.refused > 0) : [];
    } finally {
      store?.close();
    }
    if (o.json) return void ctx.io.stdout.write(`${safeJson({ running: false, outbox })}\n`);
    const lines = ['daemon: not running (start it with: nbwss daemon, or systemctl start nbwss)'];
    for (const g of outbox) lines.push(`group ${g.groupId}: ${g.pending} notification${g.pending === 1 ? '' : 's'} pending since ${g.oldestAcceptedAt ?? '-'}`);
    return void ctx.io.stdout.write(`${lines.map(safeText).join('\n')}\n`);
  }
  if (o.json) return void ctx.io.stdout.write(`${safeJson({ running: true, ...s, ok: undefined })}\n`);
  const lines = [
    `daemon: running, pid ${s.pid}, up ${s.uptimeSeconds}s (since ${s.startedAt}), ${s.secretStore} secret store`,
    `properties: ${Object.entries(s.properties)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  ];
  if (s.api) lines.push(`REST service: ${s.api.baseUrl}, trust: ${s.api.trust}`);
  if (s.groups.length === 0) lines.push('no ACTIVATED endpoints');
  for (const grp of s.groups) {
    lines.push(`group ${grp.groupId}: ${grp.connected ? `connected to ${grp.connected} since ${grp.since}` : 'not connected'}`);
    for (const e of grp.endpoints)
      lines.push(`  ${String(e.priority).padStart(3)}  ${e.hostName}  ${e.connection}${e.lastError ? `  (last error: ${e.lastError})` : ''}`);
    const n = grp.notifications;
    if (n) {
      const parts = [`${n.pending} pending${n.oldestPendingAgeSeconds !== null ? ` (oldest ${n.oldestPendingAgeSeconds}s)` : ''}`];
      if (n.inFlight) parts.push(`in flight ${n.inFlight.id} (${n.inFlight.count}, attempt ${n.inFlight.attempts}, since ${n.inFlight.since})`);
      parts.push(`${n.acknowledged} acknowledged${n.lastAcknowledgedAt ? ` (last ${n.lastAcknowledgedAt})` : ''}`);
      if (n.refused) parts.push(`${n.refused} refused (outbox full)`);
      if (n.dropped) parts.push(`${n.dropped} dropped`);
      lines.push(`  notifications: ${parts.join(', ')}`);
    }
  }
  ctx.io.stdout.write(`${lines.map(safeText).join('\n')}\n`);
}
