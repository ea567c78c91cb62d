import { PROPERTY_KEYS, PROPERTY_SPECS } from '../core/config/properties.js';
import { bashCompletion, fishCompletion, zshCompletion } from './completion.js';
import { makeContext } from './default-context.js';
import { ENVIRONMENT } from './exit-codes.js';
import type { IO } from './io.js';
import { buildProgram, VERSION } from './main.js';
import { manPage } from './manpage.js';
import { makeStyle } from './output/style.js';

/**
 * What the build generates from the command definitions: the man page and
 * the completion scripts (npm run build bundles this file and calls it).
 */
export function generatedDocs(): { man: string; bash: string; zsh: string; fish: string } {
  const io = { stdinTTY: false, stdoutTTY: false, stderrTTY: false, color: false, colorOut: false } as IO;
  const program = buildProgram(makeContext(io, {}, makeStyle(false)));
  return {
    man: manPage(
      program,
      VERSION,
      [...ENVIRONMENT],
      PROPERTY_KEYS.map((key) => ({ key, ...PROPERTY_SPECS[key] })),
    ),
    bash: bashCompletion(program, PROPERTY_KEYS),
    zsh: zshCompletion(program, PROPERTY_KEYS),
    fish: fishCompletion(program, PROPERTY_KEYS),
  };
}
