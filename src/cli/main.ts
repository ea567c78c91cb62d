import { Command, CommanderError, Option } from 'commander';
import { NbwssError } from '../core/errors.js';
import { safeLines } from '../core/text.js';
import { canonicalHost } from '../core/endpoint/host.js';
import { ENVIRONMENT, EXIT, EXIT_HELP, ExitWith } from './exit-codes.js';
import { systemIO, type IO } from './io.js';
import { makeStyle } from './output/style.js';
import { makeContext } from './default-context.js';
import type { Context } from './context.js';
import type { DaemonNews, GlobalOptions } from './context.js';
import { COMMANDS } from './commands/index.js';
import { type ChangeSpec, changeSpecOf } from './changes.js';

declare const NBWSS_VERSION: string;
export const VERSION = typeof NBWSS_VERSION === 'string' ? NBWSS_VERSION : '0.0.0-dev';

/** The global options that take a value: what follows them is not the command's name. */
export const GLOBAL_VALUE_OPTIONS = ['--home', '--secret-store', '--store'];

/**
 * The command a command line runs, when its first word after the global options names one (`nbwss --home D list`);
 * undefined for anything else (help, --version, a mistyped name): then every command is built, for help and for
 * commander's suggestions.
 */
export function invokedCommand(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (GLOBAL_VALUE_OPTIONS.includes(word)) i++;
    else if (!GLOBAL_VALUE_OPTIONS.some((o) => word.startsWith(`${o}=`)))
      return COMMANDS.some((c) => c.names.includes(word) && !c.wholeProgram) ? word : undefined;
  }
  return undefined;
}

/** The program with every command, or with only the one `argv` runs (start-up: `npm run bench`). */
export function buildProgram(ctx: Context, argv?: readonly string[]): Command {
  const program = new Command('nbwss')
    .description('Manage the WebSocket server endpoints of the NetBackup WebSocket Service (NBWSS).')
    .version(VERSION, '-V, --version', 'print the version')
    .addOption(new Option('--home <dir>', 'store directory (default: $NBWSS_HOME, /var/lib/nbwss for root, else ~/.local/share/nbwss)'))
    .addOption(new Option('--secret-store <kind>', 'where tokens go: keychain (default) or file; recorded by the first add').choices(['keychain', 'file']))
    .addOption(
      new Option('--store <url>', 'a shared PostgreSQL store, postgres://USER@HOST:PORT/DB (default: $NBWSS_STORE, else SQLite in the store directory)'),
    )
    .addHelpText('after', `\n${EXIT_HELP}\n\nEnvironment: ${ENVIRONMENT.map(([name]) => name).join(', ')}`);
  const only = argv && invokedCommand(argv);
  for (const { names, make } of COMMANDS) {
    if (only && !names.includes(only)) continue;
    const command = make(ctx, () => program);
    program.addCommand(command.helpGroup(HELP_GROUPS[command.name()] ?? 'Maintenance:'));
  }
  program.commandsGroup('Maintenance:').helpCommand('help [command]', 'Show the help of a command');
  // Every command writes through the injected IO, throws instead of exiting,
  // suggests, lists the global options in its --help, and words its usage
  // errors as nbwss's own errors are worded (Error: …, then what to do).
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const c of all(program)) {
    if (c !== program && c.commands.length > 0) c.helpCommand('help [command]', 'Show the help of a command');
    const name = c === program ? 'nbwss' : `nbwss ${fullName(c)}`;
    c.configureOutput({
      writeOut: (s) => void ctx.io.stdout.write(s),
      writeErr: (s) => void ctx.io.stderr.write(s),
      outputError: (s, write) => write(`${ctx.style.red(s.trimEnd().replace(/^error: /, 'Error: '))}\n`),
    })
      .configureHelp({ showGlobalOptions: true })
      // One voice: option descriptions are lower case (commander's own included), command descriptions sentences.
      .helpOption(c.parent?.name() === 'lab' ? false : '-h, --help', 'show this help')
      .exitOverride()
      .showSuggestionAfterError(true)
      .showHelpAfterError(`Run ${name} --help for usage.`);
  }
  return program;
}

/** nbwss --help lists the commands by task. */
const HELP_GROUPS: Record<string, string> = {
  add: 'Endpoints:',
  list: 'Endpoints:',
  show: 'Endpoints:',
  delete: 'Endpoints:',
  activate: 'Endpoints:',
  deactivate: 'Endpoints:',
  validate: 'Endpoints:',
  token: 'Endpoints:',
  repin: 'Certificates:',
  check: 'Certificates:',
  daemon: 'Daemon and delivery:',
  status: 'Daemon and delivery:',
  notify: 'Daemon and delivery:',
  api: 'REST API:',
  lab: 'Trying it:',
};

const fullName = (c: Command): string => (c.parent?.parent ? `${fullName(c.parent)} ${c.name()}` : c.name());

/** The only place that turns errors into exit codes. */
export async function main(argv: string[], io: IO = systemIO(), env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const ctx = makeContext(io, env, makeStyle(io.color));
  const change: {
    command?: string;
    home?: string;
    store?: string;
    hosts: string[];
    detail?: string;
    audit?: ChangeSpec['audit'];
    /** The run said what it changed (hosts or a detail). */
    reported?: boolean;
    tell?: DaemonNews;
  } = { hosts: [] };
  ctx.changed = ({ tell, ...facts }) => {
    if (tell) change.tell = tell;
    if (facts.hosts || facts.detail !== undefined) Object.assign(change, facts, { reported: true });
  };
  const program = buildProgram(ctx, argv);
  program.hook('preAction', (_root, action) => {
    const spec = changeSpecOf(action);
    if (!spec || (spec.when && !spec.when(action.opts()))) return;
    change.command = typeof spec.name === 'function' ? spec.name(action.opts()) : (spec.name ?? fullName(action));
    change.home = ctx.home(action.optsWithGlobals<GlobalOptions>());
    change.store = action.optsWithGlobals<GlobalOptions>().store ?? env.NBWSS_STORE;
    change.audit = spec.audit;
    // Only the declared arguments name hosts (an extra word may be a secret typed by mistake).
    const declared = action.registeredArguments;
    const hostArgs = declared.at(-1)?.variadic ? action.args : action.args.slice(0, declared.length);
    // The audit log names hosts by their one identity, however they were typed.
    if (spec.hostArgs) change.hosts = hostArgs.filter((a) => typeof a === 'string').map(canonicalHost);
    if (spec.detail) change.detail = spec.detail(action.args);
  });
  let code: number;
  let error: unknown;
  try {
    await program.parseAsync(argv, { from: 'user' });
    code = EXIT.OK;
  } catch (e) {
    error = e;
    code = report(ctx, e);
  }
  // What the run told (nbwss notify: what it queued) is told whatever its outcome; a configuration change once it succeeded.
  const { tell } = change;
  if (change.command && change.home && (tell || code === EXIT.OK)) {
    // A running daemon applies the change now instead of at its next period; none running is fine.
    const { askDaemon } = await import('../core/daemon-client.js');
    await askDaemon(change.home, tell?.request ?? { cmd: 'reconcile' }, 1000);
    // A shared store: every daemon on every host hears of it at once (LISTEN/NOTIFY).
    const channel = tell ? tell.announce : 'change';
    if (change.store && channel) {
      const { announce } = await import('../core/store/pg/announce.js');
      await announce(change.store, channel).catch((err) => {
        // Queued notifications need no warning: the daemons look for them every notification.scheduledRate anyway.
        if (channel === 'change') ctx.warn(`could not tell the other daemons of the shared store: ${(err as Error).message}`);
      });
    }
  }
  // A usage error changed nothing and is not a change that failed (a mistyped flag): no audit line.
  const audited = change.audit === 'when reported' ? change.reported : code !== EXIT.USAGE;
  if (change.command && change.home && audited) {
    const { appendAudit } = await import('../core/audit.js');
    try {
      appendAudit(change.home, {
        command: change.command,
        hosts: change.hosts,
        ...(change.detail ? { detail: change.detail } : {}),
        outcome: code === EXIT.OK ? 'ok' : 'error',
        ...(code === EXIT.OK
          ? {}
          : { error: { code: error instanceof NbwssError ? error.code : 'UNEXPECTED', message: error instanceof Error ? error.message : String(error) } }),
      });
    } catch (e) {
      ctx.warn(`could not append to the audit log: ${(e as Error).message}`);
    }
  }
  return code;
}

function report(ctx: Context, err: unknown): number {
  const { io, style } = ctx;
  if (err instanceof ExitWith) return err.exitCode;
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.OK;
    // Help shown because a sub-command is missing (nbwss config) is a usage error; nbwss help is not.
    if (err.code === 'commander.help') return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    return EXIT.USAGE; // commander already printed the message
  }
  if (err instanceof NbwssError) {
    if (err.code === 'CANCELLED') {
      io.stderr.write(`${err.message}\n`);
      return EXIT.CANCELLED;
    }
    // Errors quote what came from outside (a details file, a URL, an endpoint): escaped here, the one exit.
    io.stderr.write(`${style.red(`Error: ${safeLines(err.message)}`)}\n`);
    if (err.hint) io.stderr.write(`${safeLines(err.hint)}\n`);
    if (ctx.env.NBWSS_DEBUG && err.cause !== undefined)
      io.stderr.write(`Cause: ${err.cause instanceof Error ? (err.cause.stack ?? err.cause.message) : String(err.cause)}\n`);
    return EXIT[err.code];
  }
  if (err instanceof Error && err.name === 'ExitPromptError') {
    io.stderr.write('Cancelled; nothing was changed.\n');
    return EXIT.CANCELLED;
  }
  io.stderr.write(`${style.red(`Unexpected error: ${safeLines(err instanceof Error ? err.message : String(err))}`)}\n`);
  if (ctx.env.NBWSS_DEBUG && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
  else io.stderr.write('This is a bug in nbwss; run again with NBWSS_DEBUG=1 for details and report it.\n');
  return EXIT.UNEXPECTED;
}

export async function run(): Promise<void> {
  process.umask(0o077);
  // `nbwss list | head`: a reader that went away is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(EXIT.OK);
  });
  process.exitCode = await main(process.argv.slice(2));
}
