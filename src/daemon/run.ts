import { chmodSync, closeSync, constants, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import pino from 'pino';
import { loadProperties, type NbwssProperties } from '../core/config/properties.js';
import { daemonSocket, MAX_CONTROL_REQUEST_BYTES, socketAddress } from '../core/daemon-client.js';
import { NbwssError } from '../core/errors.js';
import type { SecretStore } from '../core/secrets/index.js';
import { EndpointStore } from '../core/store/db.js';
import { acquireLock } from '../core/store/lock.js';
import { ownershipProblem, tightenFile } from '../core/store/fs.js';
import { Daemon } from './daemon.js';
import { W } from '../core/hints.js';

export const LOCK_FILE = 'daemon.lock';
export const PID_FILE = 'daemon.pid';
export const LOG_DIR = 'logs';
export const LOG_FILE = 'nbwss.log';

export interface RunOptions {
  home: string;
  /** Also log to stderr (--log-stderr). */
  logStderr: boolean;
  openSecrets: (store: EndpointStore) => Promise<SecretStore>;
  stderr: NodeJS.WritableStream;
}

export interface RunningDaemon {
  daemon: Daemon;
  /** Resolves when the daemon has stopped (SIGTERM/SIGINT or stop()). */
  stopped: Promise<void>;
  stop(): Promise<void>;
}

/** One daemon per store: an exclusive SQLite transaction on daemon.lock, released by the kernel if the process dies. */
function takeLock(home: string) {
  try {
    return acquireLock(join(home, LOCK_FILE), 0);
  } catch (e) {
    if (!(e as { busy?: boolean }).busy) throw e;
    let pid = '?';
    try {
      pid = String(JSON.parse(readFileSync(join(home, PID_FILE), 'utf8')).pid);
    } catch {
      /* no pid file */
    }
    throw new NbwssError('STORE', `An NBWSS daemon is already running for the store ${home} (pid ${pid})`, {
      hint: `See it with: ${W.status}. One daemon per store; stop it first (SIGTERM) to start another.`,
    });
  }
}

/**
 * Run the daemon for a store until SIGTERM/SIGINT: JSON-line logs to
 * NBWSS_HOME/logs/nbwss.log (and stderr with --log-stderr), never a token;
 * a local socket for the CLI's nudges and `nbwss status`; SIGHUP re-reads
 * nbwss.properties and reconciles.
 */
export async function runDaemon(o: RunOptions): Promise<RunningDaemon> {
  const store = EndpointStore.open(o.home);
  const lock = takeLock(o.home);
  const logDir = join(o.home, LOG_DIR);
  mkdirSync(logDir, { recursive: true, mode: 0o700 });
  const logPath = join(logDir, LOG_FILE);
  // Links refused, not followed; a file of ours, 0600 (checked through the descriptor).
  for (const [p, kind] of [
    [logDir, 'dir'],
    [logPath, 'file'],
  ] as const) {
    const unsafe = ownershipProblem(p, kind);
    if (unsafe) throw unsafe;
  }
  closeSync(openSync(logPath, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600));
  tightenFile(logPath);
  const file = pino.destination({ dest: logPath, sync: false });
  const streams: pino.StreamEntry[] = [{ stream: file }];
  if (o.logStderr) streams.push({ stream: o.stderr as NodeJS.WriteStream });
  const log = pino({ base: { pid: process.pid }, redact: { paths: ['token', '*.token', 'payload.token'], censor: '[redacted]' } }, pino.multistream(streams));

  let props: NbwssProperties = loadProperties(o.home);
  const secrets = await o.openSecrets(store);
  const daemon = new Daemon({ store, secrets, log, properties: () => props });

  const sockPath = daemonSocket(o.home);
  rmSync(sockPath, { force: true }); // a stale socket from a killed daemon; we hold the lock
  const address = socketAddress(o.home); // inside the store, however long its path
  const server: Server = createServer((c) => {
    let buf = '';
    let answered = false;
    c.setEncoding('utf8');
    c.on('error', () => {});
    c.on('data', (d: string) => {
      if (answered) return;
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl === -1) {
        // One short JSON line per request: a client that sends more without a newline is dropped.
        if (buf.length > MAX_CONTROL_REQUEST_BYTES) c.destroy();
        return;
      }
      answered = true;
      let req: { cmd?: string; refused?: unknown };
      try {
        req = JSON.parse(buf.slice(0, nl));
      } catch {
        return void c.end('{"ok":false}\n');
      }
      if (req.cmd === 'reconcile') {
        log.info({}, 'nudged by the CLI: re-reading properties and reconciling');
        reload();
        c.end('{"ok":true}\n');
      } else if (req.cmd === 'notify') {
        const refused = Array.isArray(req.refused)
          ? req.refused.filter((r): r is { groupId: string; pending: number } => typeof r?.groupId === 'string' && typeof r?.pending === 'number')
          : [];
        daemon.notified(refused);
        c.end('{"ok":true}\n');
      } else if (req.cmd === 'status') {
        c.end(
          `${JSON.stringify({ ok: true, pid: process.pid, startedAt: daemon.startedAt.toISOString(), uptimeSeconds: Math.round(process.uptime()), home: o.home, secretStore: secrets.name, properties: props, ...daemon.status() })}\n`,
        );
      } else c.end('{"ok":false}\n');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.path, () => resolve());
  });
  chmodSync(sockPath, 0o600);
  writeFileSync(join(o.home, PID_FILE), `${JSON.stringify({ pid: process.pid, startedAt: daemon.startedAt.toISOString() })}\n`, { mode: 0o600 });

  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      log.info({}, 'stopping');
      await daemon.stop();
      await new Promise<void>((r) => server.close(() => r()));
      address.release();
      rmSync(sockPath, { force: true });
      rmSync(join(o.home, PID_FILE), { force: true });
      lock.release();
      store.close();
      log.info({}, 'stopped');
      file.flushSync();
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onTerm);
      process.off('SIGHUP', onHup);
      resolveStopped();
    })());
  // A second signal while stopping waits for the same graceful stop (connections closed, state
  // written, journal committed); only a third forces the exit.
  let signals = 0;
  const onTerm = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 2) log.warn({ signal }, 'still stopping gracefully; send the signal once more to force an immediate exit');
    if (signals >= 3) {
      log.error({ signal }, 'forced to exit before the graceful stop finished');
      file.flushSync();
      process.exit(1);
    }
    void stop();
  };
  function reload() {
    try {
      props = loadProperties(o.home);
    } catch (e) {
      log.error({ err: (e as Error).message }, 'nbwss.properties is not valid; keeping the properties in force');
    }
    void daemon.reload();
  }
  const onHup = () => {
    log.info({}, 'SIGHUP: re-reading properties and reconciling');
    reload();
  };
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onTerm);
  process.on('SIGHUP', onHup);

  log.info({ home: o.home, secretStore: secrets.name, properties: props }, 'NBWSS daemon started');
  await daemon.start();
  return { daemon, stopped, stop };
}
