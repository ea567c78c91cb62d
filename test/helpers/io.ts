import { PassThrough, Writable } from 'node:stream';
import type { IO } from '../../src/cli/io.js';

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
