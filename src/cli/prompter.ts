import { confirm } from '@inquirer/prompts';
import { NbwssError } from '../core/errors.js';
import type { Prompter } from './context.js';
import type { IO } from './io.js';

export function makePrompter(io: IO): Prompter {
  return {
    async confirm(message, defaultValue) {
      try {
        return await confirm({ message, default: defaultValue }, { input: io.stdin, output: io.stderr });
      } catch (e) {
        if (e instanceof Error && (e.name === 'ExitPromptError' || e.name === 'AbortPromptError')) {
          throw new NbwssError('CANCELLED', 'Cancelled; nothing was changed.');
        }
        throw e;
      }
    },
  };
}
