import { isUtf8 } from 'node:buffer';
import { createReadStream, statSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { Context, GlobalOptions } from '../context.js';
import { changesStore } from '../changes.js';
import { safeJson } from '../../core/text.js';
import { NbwssError } from '../../core/errors.js';

export interface NotifyOptions extends GlobalOptions {
  file?: string;
  json?: boolean;
  script?: string;
}

export function notifyCommand(ctx: Context): Command {
  const command = new Command('notify')
    .description('Queue JOB and IMAGE notifications for every server group with an ACTIVATED endpoint; the daemon delivers them, in order, until acknowledged')
    .option('-f, --file <path>', 'read the notifications from a file (- for stdin, the default when stdin is not a terminal)')
    .option('--json', 'print what was queued as JSON')
    .addOption(
      new Option('--script <name>', "a NetBackup notify script's event: its documented arguments follow --; the job is looked up in the REST API")
        .choices(['backup_exit_notify', 'parent_start_notify', 'parent_end_notify'])
        .conflicts('file'),
    )
    .argument('[args...]', 'with --script: the arguments NetBackup passed to the script (after --)')
    .addHelpText(
      'after',
      `
Input: one notification, a JSON array of them, or one per line (JSON lines):
  {"object": "JOB", "data": {"jobId": 146, "parentJobId": 145, "jobType": "BACKUP",
    "state": "DONE", "status": 0, "startTime": 1459829698, "policyName": "vmware2",
    "policyType": "VMWARE", "scheduleType": "ST_FULL", "clientName": "DummyTestVM"}}
  {"object": "IMAGE", "data": {"backupId": "DummyTestVM_1459811698", "clientName": "DummyTestVM",
    "clientType": "VMWARE", "backupTime": 1459811698, "createdTime": 1459829720, "operationId": "CREATE"}}
"data" may also be an array, as in the guide's payloads. Every field the guide
shows is required; more fields are passed on as they are.

Exit 0 once the notifications are on disk (they survive a crash and a power
loss); exit 3 and nothing queued if any is not valid; exit 8 naming the groups
whose outbox is full (notification.maxQueued) — the other groups still get them.

With --script, NetBackup's notify scripts (contrib/notify/) report a job's
start or end; their arguments name no job id, so nbwss finds the job in the
REST API (nbwss api key set / api login) and queues it once: a state the
poller (api.poll.jobs) already notified is not notified again.

Examples:
  nbwss notify --file job-done.json
  jq -c '.[]' notifications.json | nbwss notify
  nbwss notify --script backup_exit_notify -- client1 pol_prod sched_fulls FULL 0 -1 1`,
    )
    .action(async (args: string[], _o, cmd: Command) => {
      const options = cmd.optsWithGlobals<NotifyOptions>();
      if (options.script) return runNotifyScript(options.script, args, options, ctx);
      if (args.length)
        throw new NbwssError('USAGE', `nbwss notify takes no arguments without --script (got "${args[0]}")`, {
          hint: 'Give the notifications on standard input or with --file.',
        });
      return runNotify(options, ctx);
    });
  // The daemons are told what was queued and refused (ctx.changed's tell); the audit log has a line only for a refusal.
  return changesStore(command, { name: (o) => (o.script ? `notify --script ${o.script}` : 'notify'), audit: 'when reported' });
}

/** The input, at most MAX_INPUT_BYTES whatever it is (a file, a FIFO, /dev/zero, stdin). */
async function readInput(options: NotifyOptions, ctx: Context): Promise<string> {
  const { MAX_INPUT_BYTES } = await import('../../core/notify/notification.js');
  let input: NodeJS.ReadableStream = ctx.io.stdin;
  if (options.file && options.file !== '-') {
    let size: number;
    try {
      const st = statSync(options.file);
      if (st.isDirectory()) throw Object.assign(new Error('it is a directory'), { code: 'EISDIR' });
      size = st.isFile() ? st.size : 0;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new NbwssError('USAGE', `Cannot read the notifications file ${options.file}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`, {
        hint: 'Check the path given to --file.',
      });
    }
    if (size > MAX_INPUT_BYTES)
      throw new NbwssError('INVALID_DETAILS', `${options.file} is larger than ${MAX_INPUT_BYTES} bytes; nothing was queued`, {
        hint: 'Split it into several runs.',
      });
    input = createReadStream(options.file);
  } else if (!options.file && ctx.io.stdinTTY)
    throw new NbwssError('USAGE', 'No notifications given: stdin is a terminal', {
      hint: 'Give --file PATH, or pipe the notifications in: ... | nbwss notify',
    });
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of input) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    received += bytes.length;
    if (received > MAX_INPUT_BYTES) {
      (input as NodeJS.ReadStream).destroy?.();
      throw new NbwssError('INVALID_DETAILS', `The input is larger than ${MAX_INPUT_BYTES} bytes; nothing was queued`, { hint: 'Split it into several runs.' });
    }
    chunks.push(bytes);
  }
  const all = Buffer.concat(chunks);
  // As details files are: text that is not UTF-8 is refused, never replaced and queued.
  if (!isUtf8(all))
    throw new NbwssError('INVALID_DETAILS', `${options.file && options.file !== '-' ? options.file : 'The input'} is not valid UTF-8; nothing was queued`, {
      hint: 'Give the notifications as UTF-8 JSON (iconv -t UTF-8 converts other encodings).',
    });
  return all.toString('utf8');
}

export async function runNotify(options: NotifyOptions, ctx: Context): Promise<void> {
  const [{ parseNotifications }, { queueNotifications, refusedError }, { loadProperties }, { EndpointStore, storeUrl }] = await Promise.all([
    import('../../core/notify/notification.js'),
    import('../../core/services/notify.js'),
    import('../../core/config/properties.js'),
    import('../../core/store/db.js'),
  ]);
  const items = parseNotifications(await readInput(options, ctx));
  const home = ctx.home(options);
  const maxQueued = loadProperties(home)['notification.maxQueued'];
  // Durable: exit 0 promises the notifications survive a crash and a power loss.
  const store = EndpointStore.open(home, { durable: true, url: storeUrl(options.store, ctx.env) });
  let result: import('../../core/services/notify.js').NotifyResult;
  try {
    result = queueNotifications(store, items, maxQueued);
  } finally {
    store.close();
  }
  tellDaemons(ctx, items.length, result);
  if (options.json) ctx.io.stdout.write(`${safeJson(result)}\n`);
  if (result.queued.length)
    ctx.info(
      `Queued ${items.length} notification${items.length === 1 ? '' : 's'} for ${result.queued.length} server group${result.queued.length === 1 ? '' : 's'} (${result.queued.join(', ')}).`,
    );
  const refused = refusedError(result, maxQueued);
  if (refused) throw refusedReported(refused, ctx);
  if (result.queued.length === 0)
    ctx.warn(`no server group has an ACTIVATED endpoint: the ${items.length} notification${items.length === 1 ? ' was' : 's were'} not queued for anyone`);
}

/** What the daemons hear once the run ends, whatever its outcome: what was queued, for whom, and which groups refused. */
function tellDaemons(ctx: Context, count: number, result: { queued: string[]; refused: { groupId: string; pending: number }[] }): void {
  if (!result.queued.length && !result.refused.length) return;
  ctx.changed?.({
    tell: {
      request: {
        cmd: 'notify',
        count,
        queued: result.queued.slice(0, 100).map((g) => g.slice(0, 100)),
        refused: result.refused.slice(0, 100).map((r) => ({ groupId: r.groupId.slice(0, 100), pending: r.pending })),
      },
      announce: result.queued.length ? 'notify' : undefined,
    },
  });
}

/** A full outbox refused notifications: a change that failed, with an audit line saying so (main writes it). */
function refusedReported(refused: NbwssError, ctx: Context): NbwssError {
  ctx.changed?.({ detail: refused.message });
  return refused;
}

export async function runNotifyScript(name: string, args: string[], options: NotifyOptions, ctx: Context): Promise<void> {
  const [{ notifyFromScript }, { refusedError }, { loadProperties }, { EndpointStore, storeUrl }] = await Promise.all([
    import('../../core/services/notify-script.js'),
    import('../../core/services/notify.js'),
    import('../../core/config/properties.js'),
    import('../../core/store/db.js'),
  ]);
  const home = ctx.home(options);
  const store = EndpointStore.open(home, { durable: true, url: storeUrl(options.store, ctx.env) });
  let result: Awaited<ReturnType<typeof notifyFromScript>>;
  try {
    result = await notifyFromScript(store, await ctx.secrets(store, options), name, args);
  } finally {
    store.close();
  }
  tellDaemons(ctx, 1, result);
  if (options.json) ctx.io.stdout.write(`${safeJson(result)}\n`);
  if (result.outcome === 'retrying') return ctx.info(`${name}: the job will try again (done_trying 0): nothing to notify yet.`);
  if (result.outcome === 'already') return ctx.info(`${name}: job ${result.jobId} ${result.state} was notified already.`);
  if (result.queued.length) ctx.info(`${name}: queued job ${result.jobId} ${result.state} for ${result.queued.join(', ')}.`);
  const refused = refusedError({ ...result, notifications: 1 }, loadProperties(home)['notification.maxQueued']);
  if (refused) throw refusedReported(refused, ctx);
  if (result.queued.length === 0) ctx.warn('no server group has an ACTIVATED endpoint: the notification was not queued for anyone');
}
