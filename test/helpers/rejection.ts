import { expect } from 'vitest';
import { NbwssError } from '../../src/core/errors.js';

/** What `fn` is refused with: an NbwssError's code, message and hint (what the CLI shows). Fails if it is not refused. */
export function rejection(fn: () => unknown): { code: string; message: string; hint: string | undefined } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(NbwssError);
    const err = e as NbwssError;
    return { code: err.code, message: err.message, hint: err.hint };
  }
  throw new Error('expected a rejection');
}
