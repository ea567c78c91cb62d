import { Command, InvalidArgumentError } from 'commander';
import type { Context, GlobalOptions } from '../context.js';
import { safeJson } from '../../core/text.js';

export interface HistoryOptions extends GlobalOptions {
  json?: boolean;
  host?: string;
  limit?: number;
}

export function historyCommand(ctx: Context): Command {
  return new Command('history')
    .description('Show the audit log: every change to the store, who made it and how it ended')
    .option('--json', 'print a JSON array')
    .option('--host <host>', 'only changes that touched this host (any case)')
    .option('-n, --limit <n>', 'only the last N entries', (v) => {
      if (!/^[1-9][0-9]*$/.test(v)) throw new InvalidArgumentError('expected a whole number of 1 or more.');
      return Number(v);
    })
    .addHelpText(
      'after',
      `
Examples:
  nbwss history
  nbwss history --host cloudhost7.nebula.com --json`,
    )
    .action(async (_o, cmd: Command) => runHistory(cmd.optsWithGlobals<HistoryOptions>(), ctx));
}

export async function runHistory(o: HistoryOptions, ctx: Context): Promise<void> {
  const { readAudit } = await import('../../core/audit.js');
  let entries = readAudit(ctx.home(o));
  if (o.host) {
    const { sameHost } = await import('../../core/endpoint/host.js');
    entries = entries.filter((e) => e.hosts.some((h) => sameHost(h, o.host!)));
  }
  if (o.limit) entries = entries.slice(-o.limit);
  if (o.json) return void ctx.io.stdout.write(`${safeJson(entries)}\n`);
  if (entries.length === 0) return ctx.info('No changes recorded.');
  const { renderTable } = await import('../output/table.js');
  const rows = entries.map((e) => [
    e.time,
    e.user,
    e.command,
    [...e.hosts, ...(e.detail ? [e.detail] : [])].join(', '),
    e.outcome === 'ok' ? 'ok' : `${e.error?.code ?? 'error'}: ${e.error?.message ?? ''}`,
  ]);
  ctx.io.stdout.write(`${await renderTable(['Time', 'User', 'Command', 'Target', 'Outcome'], rows, ctx.io)}\n`);
}
