import { confirm, input, password, select } from '@inquirer/prompts';
import { NbwssError } from '../core/errors.js';
import type { Prompter } from './context.js';
import type { IO } from './io.js';

/** @inquirer/prompts on the injected streams; Ctrl-C becomes CANCELLED (exit 130). */
export function makePrompter(io: IO): Prompter {
  const where = { input: io.stdin, output: io.stderr };
  const cancelled = async <T>(prompt: Promise<T>): Promise<T> => {
    try {
      return await prompt;
    } catch (e) {
      if (e instanceof Error && (e.name === 'ExitPromptError' || e.name === 'AbortPromptError')) {
        throw new NbwssError('CANCELLED', 'Cancelled; nothing was changed.');
      }
      throw e;
    }
  };
  return {
    confirm: (message, defaultValue) => cancelled(confirm({ message, default: defaultValue }, where)),
    select: (message, choices) => cancelled(select({ message, choices }, where)),
    input: (message, validate) => cancelled(input({ message, ...(validate ? { validate } : {}) }, where)),
    password: (message) => cancelled(password({ message, mask: '*' }, where)),
  };
}
