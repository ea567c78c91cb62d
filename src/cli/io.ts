import type { Readable, Writable } from 'node:stream';
import { isatty } from 'node:tty';

/**
 * The streams a command talks to, injected so a test can run a command in
 * TTY and non-TTY mode. Data goes to stdout, messages to stderr.
 */
export interface IO {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  stdinTTY: boolean;
  stdoutTTY: boolean;
  stderrTTY: boolean;
  /** Colour on stderr messages. */
  color: boolean;
  /** Colour on stdout data (tables, status). */
  colorOut: boolean;
  /** The terminal's width when stdout is one (tables and status fit it). */
  columns?: number;
}

/** NO_COLOR wins; then FORCE_COLOR; else colour only on a terminal. */
export function wantsColor(isTTY: boolean, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  return isTTY && env.TERM !== 'dumb';
}

export function systemIO(env: NodeJS.ProcessEnv = process.env): IO {
  // Not process.stdin.isTTY: that creates the stdin stream, which most commands never read.
  const stdinTTY = isatty(0);
  const stdoutTTY = Boolean(process.stdout.isTTY);
  const stderrTTY = Boolean(process.stderr.isTTY);
  return {
    get stdin() {
      return process.stdin;
    },
    stdout: process.stdout,
    stderr: process.stderr,
    stdinTTY,
    stdoutTTY,
    stderrTTY,
    color: wantsColor(stderrTTY, env),
    colorOut: wantsColor(stdoutTTY, env),
    ...(stdoutTTY && process.stdout.columns ? { columns: process.stdout.columns } : {}),
  };
}

/** Prompting needs a person at a terminal: stdin to read, stderr to ask on. */
export const canPrompt = (io: IO) => io.stdinTTY && io.stderrTTY;
