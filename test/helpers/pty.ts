import { spawn } from 'node:child_process';
import { baseEnv, BIN } from './cli.js';

export interface PtySession {
  /** Resolves when the screen output contains `text`. */
  waitFor(text: string | RegExp): Promise<void>;
  type(keys: string): void;
  done: Promise<{ code: number | null; output: string }>;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The CLI in a real pseudo-terminal (util-linux `script`), so stdin, stdout
 * and stderr are all TTYs, as for an administrator at a terminal.
 */
export function runInPty(args: string[], env: NodeJS.ProcessEnv): PtySession {
  const cmd = [process.execPath, BIN, ...args].map(quote).join(' ');
  const child = spawn('script', ['-qefc', cmd, '/dev/null'], { env: { ...baseEnv(), TERM: 'xterm', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  const waiters: { match: string | RegExp; resolve: () => void }[] = [];
  const check = () => {
    for (const w of [...waiters]) {
      if (typeof w.match === 'string' ? output.includes(w.match) : w.match.test(output)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    output += d;
    check();
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
  const done = new Promise<{ code: number | null; output: string }>((resolve) => {
    child.on('close', (code) => {
      child.stdin!.destroy();
      for (const w of waiters.splice(0)) w.resolve();
      resolve({ code, output });
    });
  });
  return {
    waitFor: (match) =>
      new Promise<void>((resolve) => {
        waiters.push({ match, resolve });
        check();
      }),
    type: (keys) => void child.stdin!.write(keys),
    done,
  };
}
