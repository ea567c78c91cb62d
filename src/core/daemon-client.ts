import { closeSync, constants, openSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { ControlRequest } from './daemon-protocol.js';
import { NbwssError } from './errors.js';
import { W } from './hints.js';

export const SOCKET_FILE = 'daemon.sock';
export const daemonSocket = (home: string) => join(home, SOCKET_FILE);
/** A unix socket's path has room for about 107 bytes; longer ones are reached another way. */
const MAX_SOCKET_PATH_BYTES = 100;
/** A request line on the control socket is at most 32 KiB (a notify nudge names up to 100 groups); a longer one is dropped. */
export const MAX_CONTROL_REQUEST_BYTES = 32 * 1024;

/**
 * The address of a store's daemon socket, always the file daemon.sock in the
 * store directory. Where its full path is too long for a unix socket, on
 * Linux the directory is opened and the socket named through
 * /proc/self/fd/N/ (short, and still inside the store); elsewhere refused.
 * `release` closes what was opened.
 */
export function socketAddress(home: string): { path: string; release(): void } {
  const full = daemonSocket(home);
  if (Buffer.byteLength(full) <= MAX_SOCKET_PATH_BYTES) return { path: full, release: () => {} };
  if (process.platform !== 'linux') {
    throw new NbwssError(
      'STORE',
      `The store path ${home} is too long for the daemon's socket (${Buffer.byteLength(full)} bytes; at most ${MAX_SOCKET_PATH_BYTES})`,
      { hint: `Use a store with a shorter path (${W.home}).` },
    );
  }
  const fd = openSync(home, constants.O_RDONLY | constants.O_DIRECTORY);
  return { path: `/proc/self/fd/${fd}/${SOCKET_FILE}`, release: () => closeSync(fd) };
}

/** The socket's address, or undefined where there can be no daemon (no store directory). */
function addressOf(home: string): { path: string; release(): void } | undefined {
  try {
    return socketAddress(home);
  } catch {
    return undefined;
  }
}

/**
 * How long `status` waits for the daemon's answer before it says "not
 * answering": the daemon answers from memory (its store waits are bounded,
 * store-retry.ts), so this is about a loaded or hung machine, not the store.
 */
export const STATUS_ANSWER_MS = 5000;

/**
 * Ask the daemon of a store something over its local socket (one JSON line
 * each way). Resolves undefined when no daemon is running: that is not an
 * error for the CLI.
 */
export function askDaemon<T = unknown>(home: string, request: Exclude<ControlRequest, { cmd: 'watch' }>, timeoutMs = 2000): Promise<T | undefined> {
  const address = addressOf(home);
  if (!address) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const sock = connect(address.path);
    let buf = '';
    const done = (value: T | undefined) => {
      clearTimeout(timer);
      sock.destroy();
      address.release();
      resolve(value);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    sock.on('error', () => done(undefined));
    sock.on('connect', () => sock.write(`${JSON.stringify(request)}\n`));
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buf += chunk;
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

/**
 * Follow the daemon's status: `onStatus` with the status now and again at
 * every change, until close() or the daemon goes away (`onEnd`). Returns
 * undefined when no daemon is running.
 */
export function watchDaemon<T = unknown>(
  home: string,
  onStatus: (status: T) => void,
  onEnd: () => void,
  timeoutMs = 2000,
): Promise<{ close(): void } | undefined> {
  const address = addressOf(home);
  if (!address) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const sock = connect(address.path);
    let buf = '';
    let started = false;
    const timer = setTimeout(() => {
      if (started) return;
      sock.destroy();
      resolve(undefined);
    }, timeoutMs);
    sock.on('error', () => {
      if (!started) {
        clearTimeout(timer);
        resolve(undefined);
      }
    });
    sock.on('close', () => {
      address.release();
      if (started) onEnd();
    });
    sock.on('connect', () => sock.write('{"cmd":"watch"}\n'));
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let status: T;
        try {
          status = JSON.parse(line) as T;
        } catch {
          continue;
        }
        if (!started) {
          started = true;
          clearTimeout(timer);
          resolve({ close: () => sock.destroy() });
        }
        onStatus(status);
      }
    });
  });
}

/** Whether something accepts connections on the store's daemon socket (a daemon that may not answer). */
export function socketAccepts(home: string, timeoutMs = 1000): Promise<boolean> {
  const address = addressOf(home);
  if (!address) return Promise.resolve(false);
  return new Promise((resolve) => {
    const sock = connect(address.path);
    const done = (accepts: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      address.release();
      resolve(accepts);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.on('connect', () => done(true));
    sock.on('error', () => done(false));
  });
}
