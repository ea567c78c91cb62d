import { connect } from 'node:net';
import { join } from 'node:path';

export const SOCKET_FILE = 'daemon.sock';
export const daemonSocket = (home: string) => join(home, SOCKET_FILE);

/**
 * Ask the daemon of a store something over its local socket (one JSON line
 * each way). Resolves undefined when no daemon is running: that is not an
 * error for the CLI.
 */
export function askDaemon<T = unknown>(home: string, request: { cmd: 'reconcile' | 'status' }, timeoutMs = 2000): Promise<T | undefined> {
  return new Promise((resolve) => {
    const sock = connect(daemonSocket(home));
    let buf = '';
    const done = (v: T | undefined) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    sock.on('error', () => done(undefined));
    sock.on('connect', () => sock.write(`${JSON.stringify(request)}\n`));
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl === -1) return;
      try {
        done(JSON.parse(buf.slice(0, nl)) as T);
      } catch {
        done(undefined);
      }
    });
  });
}
