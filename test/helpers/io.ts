import { PassThrough, Writable } from 'node:stream';
import type { IO } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { baseEnv } from './cli.js';

/** IO for main() in-process: a terminal or a pipe, what was written to stdout and stderr collected. */
export function injectedIO(tty: boolean, color = false, stdoutWrite?: (s: string) => void) {
  let out = '';
  let err = '';
  const sink = (f: (s: string) => void) =>
    new Writable({
      write: (c, _e, cb) => {
        f(String(c));
        cb();
      },
    });
  const streams: IO = {
    stdin: new PassThrough(),
    stdout: sink(stdoutWrite ?? ((s) => (out += s))),
    stderr: sink((s) => (err += s)),
    stdinTTY: false,
    stdoutTTY: tty,
    stderrTTY: tty,
    color,
    colorOut: color,
  };
  return { streams, out: () => out, err: () => err };
}

/**
 * runCli's twin in-process: main with piped IO, `input` on stdin, the environment a CLI run starts from plus `env`.
 * For what a test does not show through a process (set-up steps, the bulk of a corpus); a Node process costs ~0.13 s
 * of CPU here.
 */
export async function runInProcess(args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = injectedIO(false);
  (io.streams.stdin as PassThrough).end(input);
  const code = await main(args, io.streams, { ...baseEnv(), ...env });
  return { code, stdout: io.out(), stderr: io.err() };
}
