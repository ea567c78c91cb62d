import { Command, Option } from 'commander';
import type { Context, GlobalOptions } from '../context.js';
import { safeJson, safeText } from '../../core/text.js';
import { ExitWith } from '../exit-codes.js';
import { NbwssError } from '../../core/errors.js';

export interface StatusOptions extends GlobalOptions {
  json?: boolean;
  watch?: boolean;
  check?: boolean;
  maxPendingAge: number;
}

export type { DaemonStatus, PollingStatus } from '../../core/daemon-protocol.js';
import type { DaemonStatus, PollingStatus } from '../../core/daemon-protocol.js';

/** One line per polling source. */
export function pollingLines(polling: readonly PollingStatus[]): string[] {
  return polling
    .filter((p) => p.enabled !== false || p.lastPollAt)
    .map((entry) => {
      const parts = [entry.enabled === false ? 'off' : entry.enabled ? 'on' : 'state in the store'];
      if (entry.lastPollAt) parts.push(`last poll ${entry.lastPollAt}`);
      if (entry.cursor) parts.push(`${entry.source === 'jobs' ? 'cursor' : 'window checked at'} ${entry.cursor}`);
      parts.push(`${entry.events} notification${entry.events === 1 ? '' : 's'} found`);
      if (entry.nextPollInSeconds !== null && entry.nextPollInSeconds !== undefined) parts.push(`next in ${entry.nextPollInSeconds}s`);
      const line = `polling ${entry.source}: ${parts.join(', ')}`;
      const warning = entry.warning ? `\n  warning: ${entry.warning}` : '';
      if (entry.paused) return `${line}\n  PAUSED until the credentials change: ${entry.paused}${warning}`;
      return `${entry.lastError ? `${line}\n  last error: ${entry.lastError}` : line}${warning}`;
    });
}

/** The Nagios plugin convention. */
export const CHECK = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 } as const;

const seconds = (value: string) => {
  if (!/^[0-9]+$/.test(value))
    throw new NbwssError('USAGE', `--max-pending-age must be a whole number of seconds, not "${value}"`, { hint: 'Example: --max-pending-age 600' });
  return Number(value);
};

export function statusCommand(ctx: Context): Command {
  return new Command('status')
    .description('Is a daemon running for this store, and per group which endpoint is connected since when and what its notifications are doing')
    .option('--json', 'print JSON ({running: false, outbox} when no daemon runs); with --watch one JSON object per change')
    .addOption(
      new Option('-w, --watch', 'follow the status as it changes (pushed by the daemon): redrawn in place at a terminal, q or Ctrl-C to leave').conflicts(
        'check',
      ),
    )
    .option('--check', 'one line and the Nagios plugin exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN')
    .addOption(new Option('--max-pending-age <s>', 'with --check: WARNING when a group has a notification pending longer').argParser(seconds).default(600))
    .addHelpText(
      'after',
      `
--check is CRITICAL when the daemon is not running or a group with ACTIVATED
endpoints has no connection, WARNING when a notification has waited longer
than --max-pending-age seconds, UNKNOWN when the state cannot be read.

Examples:
  nbwss status
  nbwss status --watch
  nbwss status --watch --json | jq -c '.groups[] | {groupId, connected}'
  nbwss status --check --max-pending-age 900`,
    )
    .action(async (_o, cmd: Command) => runStatus(cmd.optsWithGlobals<StatusOptions>(), ctx));
}

/** The status as lines of text (text from outside escaped). */
/** The --check verdict: the Nagios code and its one line (with performance data). */
export function checkVerdict(status: DaemonStatus | undefined, maxPendingAge: number): { code: number; line: string } {
  if (!status) return { code: CHECK.CRITICAL, line: 'NBWSS CRITICAL - the daemon is not running' };
  const groups = status.groups.filter((g) => g.endpoints.length > 0);
  const down = groups.filter((g) => !g.connected).map((g) => g.groupId);
  const pending = status.groups.reduce((n, g) => n + (g.notifications?.pending ?? 0), 0);
  const oldest = Math.max(0, ...status.groups.map((g) => g.notifications?.oldestPendingAgeSeconds ?? 0));
  const late = status.groups.filter((g) => (g.notifications?.oldestPendingAgeSeconds ?? 0) > maxPendingAge).map((g) => g.groupId);
  const perf = `| groups=${groups.length} connected=${groups.length - down.length} pending=${pending} oldest_pending_age=${oldest}s;${maxPendingAge}`;
  if (down.length) return { code: CHECK.CRITICAL, line: safeText(`NBWSS CRITICAL - not connected: group ${down.join(', ')} ${perf}`) };
  const failing = (status.polling ?? []).filter((p) => p.enabled && p.lastError);
  if (failing.length)
    return {
      code: CHECK.WARNING,
      line: safeText(`NBWSS WARNING - polling ${failing.map((p) => `${p.source} fails: ${p.lastError}`).join('; ')} ${perf}`),
    };
  if (late.length)
    return { code: CHECK.WARNING, line: safeText(`NBWSS WARNING - notifications pending longer than ${maxPendingAge}s: group ${late.join(', ')} ${perf}`) };
  return { code: CHECK.OK, line: safeText(`NBWSS OK - ${groups.length} group${groups.length === 1 ? '' : 's'} connected, ${pending} pending ${perf}`) };
}

/** The store this home names (its id), to tell this store's daemon from another's on the same socket. */
async function storeIdOf(options: StatusOptions, ctx: Context): Promise<string | undefined> {
  try {
    const store = await ctx.readStore(options);
    try {
      return store?.storeId;
    } finally {
      store?.close();
    }
  } catch {
    return undefined;
  }
}

/**
 * The daemon of this store, if one answers on the home's socket: a daemon of another store is none of this store's,
 * and the answer of a daemon that speaks another control protocol is not read (`mismatch` says why).
 */
async function askOwnDaemon(
  home: string,
  options: StatusOptions,
  ctx: Context,
): Promise<{ status: DaemonStatus | undefined; foreign?: string; mismatch?: string }> {
  const [{ askDaemon, STATUS_ANSWER_MS }, { protocolProblem }] = await Promise.all([
    import('../../core/daemon-client.js'),
    import('../../core/daemon-protocol.js'),
  ]);
  const status = await askDaemon<DaemonStatus>(home, { cmd: 'status' }, STATUS_ANSWER_MS);
  const mismatch = status ? protocolProblem(status) : undefined;
  if (mismatch) return { status: undefined, mismatch };
  if (!status?.storeId) return { status };
  const mine = await storeIdOf(options, ctx);
  if (mine && status.storeId !== mine) return { status: undefined, foreign: status.storeId };
  return { status };
}

export async function runStatus(options: StatusOptions, ctx: Context): Promise<void> {
  const { socketAccepts } = await import('../../core/daemon-client.js');
  const home = ctx.home(options);
  if (options.check) {
    let verdict: { code: number; line: string };
    try {
      const { status, foreign, mismatch } = await askOwnDaemon(home, options, ctx);
      if (foreign) throw new Error(`the daemon on this home's socket serves another store (${foreign}), not this one`);
      if (mismatch) throw new Error(mismatch);
      verdict =
        !status && (await socketAccepts(home))
          ? { code: CHECK.UNKNOWN, line: 'NBWSS UNKNOWN - the daemon socket does not answer (a hung daemon?)' }
          : checkVerdict(status, options.maxPendingAge);
    } catch (e) {
      verdict = { code: CHECK.UNKNOWN, line: safeText(`NBWSS UNKNOWN - ${(e as Error).message}`) };
    }
    ctx.io.stdout.write(`${verdict.line}\n`);
    if (verdict.code !== CHECK.OK) throw new ExitWith(verdict.code);
    return;
  }
  if (options.watch) return watch(home, options, ctx);
  const { status, foreign, mismatch } = await askOwnDaemon(home, options, ctx);
  if (foreign) return notRunning(options, ctx, `the daemon on this home's socket serves another store (${foreign}), not this one`);
  if (mismatch) return notRunning(options, ctx, mismatch, true);
  if (!status && (await socketAccepts(home)))
    return notRunning(options, ctx, "not answering: a daemon holds this home's socket but did not answer within 5 s (busy, or hung: see its log)", true);
  if (!status) return notRunning(options, ctx);
  if (options.json) return void ctx.io.stdout.write(`${safeJson({ running: true, ...status, ok: undefined })}\n`);
  const { statusView } = await import('../output/status-view.js');
  ctx.io.stdout.write(`${statusView(status, { now: Date.now(), color: ctx.io.colorOut, columns: ctx.io.columns }).join('\n')}\n`);
}

/** A daemon of a shared store counts as live while its heartbeat (every second) is this fresh. */
const LIVE_HEARTBEAT_MS = 30_000;

async function notRunning(options: StatusOptions, ctx: Context, why?: string, running = false): Promise<void> {
  // No daemon here: what waits in the store, and on a shared store who serves it, is still worth knowing.
  const store = await ctx.readStore(options);
  let outbox: { groupId: string; pending: number; oldestAcceptedAt: string | null; refused: number }[] = [];
  let polling: PollingStatus[] = [];
  let daemons: NonNullable<DaemonStatus['cluster']>['daemons'] = [];
  try {
    // A store read here is at the current schema (an older one is migrated when opened).
    outbox = store ? store.outbox.groups().filter((g) => g.pending > 0 || g.refused > 0) : [];
    polling = store ? store.poll.sources().map((p) => ({ ...p, cursor: p.cursor ? new Date(p.cursor.time * 1000).toISOString() : null })) : [];
    daemons = (store?.shared?.daemons() ?? []).filter((d) => Date.now() - Date.parse(d.heartbeatAt) < LIVE_HEARTBEAT_MS);
  } finally {
    store?.close();
  }
  const shared = store?.backend.kind === 'postgres';
  if (options.json)
    return void ctx.io.stdout.write(
      `${safeJson({ running, ...(running ? { answering: false } : {}), ...(why ? { why } : {}), outbox, polling, ...(shared ? { cluster: { daemons } } : {}) })}\n`,
    );
  const { noDaemonView } = await import('../output/status-view.js');
  const lines = noDaemonView(
    { running, why, shared, home: ctx.home(options), daemons, outbox, polling: pollingLines(polling).flatMap((l) => l.split('\n')) },
    { now: Date.now(), color: ctx.io.colorOut, columns: ctx.io.columns },
  );
  ctx.io.stdout.write(`${lines.join('\n')}\n`);
}

/** --watch: each status the daemon pushes; at a terminal redrawn in place until q or Ctrl-C, the screen left as it was. */
async function watch(home: string, options: StatusOptions, ctx: Context): Promise<void> {
  const [{ watchDaemon }, { statusView }, { protocolProblem }] = await Promise.all([
    import('../../core/daemon-client.js'),
    import('../output/status-view.js'),
    import('../../core/daemon-protocol.js'),
  ]);
  let mismatch: string | undefined;
  const { stdout, stdin } = ctx.io;
  const screen = ctx.io.stdoutTTY && !options.json;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  let ended = false;
  const tty = stdin as NodeJS.ReadStream;
  const keys = (chunk: Buffer) => {
    const key = chunk.toString();
    if (key === 'q' || key === 'Q' || key === '\x03') resolveDone();
  };
  const onSigint = () => resolveDone();
  // The alternate screen before the first frame: nothing of the view is ever drawn on the user's own screen.
  if (screen) stdout.write('\x1b[?1049h\x1b[?25l\x1b[2J');
  const leaveScreen = () => {
    if (screen) stdout.write('\x1b[?25h\x1b[?1049l'); // the terminal as it was
  };
  const watch = await watchDaemon<DaemonStatus>(
    home,
    (status) => {
      // A daemon of another control protocol: its statuses are not read; the watch ends and says why.
      mismatch ??= protocolProblem(status);
      if (mismatch) return resolveDone();
      // JSON lines: one compact object per change.
      if (options.json) return void stdout.write(`${safeJson({ running: true, ...status, ok: undefined }).replace(/\n\s*/g, '')}\n`);
      const lines = statusView(status, { now: Date.now(), color: ctx.io.colorOut, columns: ctx.io.columns });
      if (screen) {
        // Home, the lines (each clearing the rest of its row), then clear below: no flicker.
        const at = new Date().toTimeString().slice(0, 8);
        stdout.write(`\x1b[H${lines.map((l) => `${l}\x1b[K`).join('\n')}\n\x1b[2m(q or Ctrl-C to leave; updated ${at})\x1b[0m\x1b[K\n\x1b[J`);
      } else stdout.write(`${lines.join('\n')}\n\n`);
    },
    () => {
      ended = true;
      resolveDone();
    },
  );
  if (!watch) {
    leaveScreen();
    return notRunning(options, ctx);
  }
  if (screen && ctx.io.stdinTTY && typeof tty.setRawMode === 'function') {
    tty.setRawMode(true);
    tty.on('data', keys);
    tty.resume();
  }
  process.on('SIGINT', onSigint);
  try {
    await done;
  } finally {
    process.off('SIGINT', onSigint);
    watch.close();
    if (screen && ctx.io.stdinTTY && typeof tty.setRawMode === 'function') {
      tty.off('data', keys);
      tty.setRawMode(false);
      tty.pause();
    }
    leaveScreen();
  }
  if (mismatch) return notRunning(options, ctx, mismatch, true);
  if (ended) ctx.info('The daemon stopped.');
}
