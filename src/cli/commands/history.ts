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
    .option('-n, --limit <n>', 'only the last N entries', (value) => {
      if (!/^[1-9][0-9]*$/.test(value)) throw new InvalidArgumentError('expected a whole number of 1 or more.');
      return Number(value);
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

export async function runHistory(options: HistoryOptions, ctx: Context): Promise<void> {
  const { readAudit } = await import('../../core/audit.js');
  let entries = readAudit(ctx.home(options));
  if (options.host) {
    const { sameHost } = await import('../../core/endpoint/host.js');
    entries = entries.filter((e) => e.hosts.some((h) => sameHost(h, options.host!)));
  }
  if (options.limit) entries = entries.slice(-options.limit);
  if (options.json) return void ctx.io.stdout.write(`${safeJson(entries)}\n`);
  if (entries.length === 0) return ctx.info('No changes recorded.');
  const { renderTable } = await import('../output/table.js');
  const rows = entries.map((entry) => [
    entry.time,
    entry.user,
    entry.command,
    [...entry.hosts, ...(entry.detail ? [entry.detail] : [])].join(', '),
    entry.outcome === 'ok' ? 'ok' : `${entry.error?.code ?? 'error'}: ${entry.error?.message ?? ''}`,
  ]);
  ctx.io.stdout.write(`${await renderTable(['Time', 'User', 'Command', 'Target', 'Outcome'], rows, ctx.io)}\n`);
}
