import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { spawnCli } from './cli.js';

export interface LogLine {
  msg: string;
  host?: string;
  [k: string]: unknown;
}

export interface DaemonProcess {
  child: ChildProcess;
  lines: LogLine[];
  /** Resolves with the first log line (past or future) that matches; rejects after `timeoutMs` or if the daemon exits. */
  waitFor(match: (l: LogLine) => boolean, timeoutMs?: number, from?: number): Promise<LogLine>;
  /** Index of the next line: waitFor(..., mark()) matches only lines from now on. */
  mark(): number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<DaemonProcess>();

/** `nbwss daemon --log-stderr` as a real process, its JSON log lines read from stderr as events. */
export function startDaemon(env: NodeJS.ProcessEnv): DaemonProcess {
  const child = spawnCli(['daemon', '--log-stderr'], env);
  child.stdin!.end();
  const lines: LogLine[] = [];
  let stderr = '';
  const waiters = new Set<{ match: (l: LogLine) => boolean; from: number; resolve: (l: LogLine) => void }>();
  createInterface({ input: child.stderr! }).on('line', (text) => {
    stderr += `${text}\n`;
    let l: LogLine;
    try {
      l = JSON.parse(text);
    } catch {
      return;
    }
    lines.push(l);
    for (const w of waiters) if (w.match(l)) w.resolve(l);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stderr })),
  );
  const d: DaemonProcess = {
    child,
    lines,
    mark: () => lines.length,
    waitFor: (match, timeoutMs = 10_000, from = 0) =>
      new Promise<LogLine>((resolve, reject) => {
        const past = lines.slice(from).find(match);
        if (past) return resolve(past);
        const w = {
          match,
          from,
          resolve: (l: LogLine) => {
            clearTimeout(timer);
            waiters.delete(w);
            resolve(l);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(
            new Error(`no matching daemon log line within ${timeoutMs} ms; lines:\n${lines.map((x) => JSON.stringify(x)).join('\n')}\n${stderr.slice(-2000)}`),
          );
        }, timeoutMs);
        waiters.add(w);
        void exited.then(() => {
          if (waiters.has(w)) {
            clearTimeout(timer);
            waiters.delete(w);
            reject(new Error(`the daemon exited:\n${stderr.slice(-2000)}`));
          }
        });
      }),
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const r = await exited;
      running.delete(d);
      return r;
    },
  };
  running.add(d);
  return d;
}

/**
 * A daemon that outlives one test: a describe's beforeAll starts it for cases that only send it messages, its
 * afterAll stops it; stopAllDaemons (each test's afterEach) leaves it alone.
 */
export function startSharedDaemon(env: NodeJS.ProcessEnv): DaemonProcess {
  const d = startDaemon(env);
  running.delete(d);
  return d;
}

/** Stop every daemon a test file started (afterAll). */
export async function stopAllDaemons(): Promise<void> {
  await Promise.all([...running].map((d) => d.stop('SIGKILL')));
}
