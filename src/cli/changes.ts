import type { Command } from 'commander';

/**
 * What a command that changes the store declares about itself, next to its
 * definition: main reads it to append the audit line and nudge a running
 * daemon, so a new command needs no entry anywhere else. What only the run
 * learns (the hosts it changed, a detail) it adds with `ctx.changed()`; the
 * command's name and home come from here, once.
 */
export interface ChangeSpec {
  /** Whether this run changes anything (doctor only with --fix); default: always. */
  when?: (options: Record<string, unknown>) => boolean;
  /** The command as the audit log names it, fixed or from the options (`add --replace`); default: its full name (`token set`). */
  name?: string | ((options: Record<string, unknown>) => string);
  /** Its declared arguments are host names. */
  hostArgs?: boolean;
  /** The audit line's detail, from the arguments (config set KEY VALUE -> KEY=VALUE). */
  detail?: (args: string[]) => string;
  /**
   * Which runs have an audit line: 'every run' (the default; not a usage error, which changed nothing), or 'when
   * reported': only a run that reported hosts or a detail with ctx.changed() (nbwss notify: queued notifications are
   * not a change of the configuration; a refused one is a change that failed, and says so).
   */
  audit?: 'every run' | 'when reported';
}

const specs = new WeakMap<Command, ChangeSpec>();

/** Mark a command as one that changes the store. */
export function changesStore(command: Command, spec: ChangeSpec = {}): Command {
  specs.set(command, spec);
  return command;
}

export const changeSpecOf = (command: Command): ChangeSpec | undefined => specs.get(command);
