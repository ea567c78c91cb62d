import type { Command } from 'commander';
import type { Context } from '../context.js';
import { addCommand } from './add.js';
import { checkCommand } from './check.js';
import { completionCommand } from './completion.js';
import { configCommand } from './config.js';
import { daemonCommand } from './daemon.js';
import { statusCommand } from './status.js';
import { deleteCommand } from './delete.js';
import { doctorCommand } from './doctor.js';
import { historyCommand } from './history.js';
import { listCommand } from './list.js';
import { notifyCommand } from './notify.js';
import { apiCommand } from './api.js';
import { repinCommand } from './repin.js';
import { showCommand } from './show.js';
import { stateCommand } from './state.js';
import { tokenCommand } from './token.js';
import { validateCommand } from './validate.js';
import { storeCommand } from './store.js';
import { labCommand } from './lab.js';

/**
 * Every command, in the order --help lists them (grouped by task: main.ts HELP_GROUPS). Adding a command is one
 * file in this directory and one line here: main registers it, the
 * completions and the man page are generated from its definition, and
 * changesStore() in its file is all the audit log and the daemon need.
 */
export interface CommandEntry {
  /** The command's name and aliases, as its definition gives them (a test compares): main builds only the command a
   * command line names, so that `nbwss list` does not build twenty commands to run one. */
  names: readonly string[];
  make: (ctx: Context, program: () => Command) => Command;
  /** It reads the whole program (completion prints every command): built with all the others. */
  wholeProgram?: true;
}

export const COMMANDS: readonly CommandEntry[] = [
  // Endpoints
  { names: ['add'], make: addCommand },
  { names: ['list', 'ls'], make: listCommand },
  { names: ['show'], make: showCommand },
  { names: ['delete', 'rm'], make: deleteCommand },
  { names: ['activate'], make: (ctx) => stateCommand(ctx, 'activate') },
  { names: ['deactivate'], make: (ctx) => stateCommand(ctx, 'deactivate') },
  { names: ['validate'], make: validateCommand },
  { names: ['token'], make: tokenCommand },
  // Certificates
  { names: ['repin'], make: repinCommand },
  { names: ['check'], make: checkCommand },
  // Daemon and delivery
  { names: ['daemon'], make: daemonCommand },
  { names: ['status'], make: statusCommand },
  { names: ['notify'], make: notifyCommand },
  // REST API
  { names: ['api'], make: apiCommand },
  // Trying it
  { names: ['lab'], make: labCommand },
  // Maintenance
  { names: ['config'], make: configCommand },
  { names: ['history'], make: historyCommand },
  { names: ['doctor'], make: doctorCommand },
  { names: ['store'], make: storeCommand },
  { names: ['completion'], make: completionCommand, wholeProgram: true },
];
