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
export const COMMANDS: ((ctx: Context, program: () => Command) => Command)[] = [
  // Endpoints
  addCommand,
  listCommand,
  showCommand,
  deleteCommand,
  (ctx) => stateCommand(ctx, 'activate'),
  (ctx) => stateCommand(ctx, 'deactivate'),
  validateCommand,
  tokenCommand,
  // Certificates
  repinCommand,
  checkCommand,
  // Daemon and delivery
  daemonCommand,
  statusCommand,
  notifyCommand,
  // REST API
  apiCommand,
  // Trying it
  labCommand,
  // Maintenance
  configCommand,
  historyCommand,
  doctorCommand,
  storeCommand,
  completionCommand,
];
