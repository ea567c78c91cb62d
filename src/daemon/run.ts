import { CONTROL_PROTOCOL, type DaemonStatus } from '../core/daemon-protocol.js';
import { textStream } from './log-format.js';
import { DAEMON_LOCK_WAIT_MS } from './store-retry.js';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { closeSync, constants, fstatSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { loadProperties, type NbwssProperties } from '../core/config/properties.js';
import { serveControl } from './control-server.js';
import { NbwssError } from '../core/errors.js';
import type { SecretStore } from '../core/secrets/index.js';
import { EndpointStore, safeStoreUrl } from '../core/store/db.js';
import { acquireLock } from '../core/store/lock.js';
import { ownershipProblem, tightenFile } from '../core/store/fs.js';
import { Daemon } from './daemon.js';
import { parseListen } from '../core/config/properties.js';
import type { Metrics } from './metrics.js';
import { W } from '../core/hints.js';

export const LOCK_FILE = 'daemon.lock';
/** The version the build stamps in (scripts/build.mjs). */
declare const NBWSS_VERSION: string;

export const PID_FILE = 'daemon.pid';
export const LOG_DIR = 'logs';
export const LOG_FILE = 'nbwss.log';

export interface RunOptions {
  home: string;
  /** A shared PostgreSQL store (else SQLite in home). */
  storeUrl?: string;
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
      pid = readFileSync(join(home, PID_FILE), 'utf8').trim() || '?';
    } catch {
      /* no pid file */
    }
    throw new NbwssError('STORE', `An NBWSS daemon is already running for the store ${home} (pid ${pid})`, {
      hint: `See it with: ${W.status}. One daemon per store; stop it first (SIGTERM) to start another.`,
    });
  }
}

/** The log file, checked and created as ours (0600, no links followed) before pino opens it; again at each reopen. */
function prepareLogFile(home: string): string {
  const logDir = join(home, LOG_DIR);
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
  return logPath;
}

/** systemd's journal is on stderr: JOURNAL_STREAM names stderr's device and inode (systemd.exec(5)). */
export function stderrIsJournal(env: NodeJS.ProcessEnv = process.env): boolean {
  const js = env.JOURNAL_STREAM;
  if (!js) return false;
  try {
    const st = fstatSync(2);
    return js === `${st.dev}:${st.ino}`;
  } catch {
    return false;
  }
}

/**
 * Run the daemon for a store until SIGTERM/SIGINT: JSON-line logs to
 * NBWSS_HOME/logs/nbwss.log (and stderr with --log-stderr; stderr only under
 * systemd's journal), never a token; a local socket for the CLI's nudges,
 * `nbwss status` and its live view; SIGHUP re-reads nbwss.properties and
 * reconciles; SIGUSR1 (and SIGHUP) reopen the log file for logrotate;
 * Prometheus metrics when metrics.listen is set.
 */
export async function runDaemon(options: RunOptions): Promise<RunningDaemon> {
  // A SIGTERM while starting (systemctl stop right after start) waits for the start, then stops gracefully.
  // One listener for the whole run: removing a signal's last listener drops a signal already on its way.
  const signals: Signals = { early: undefined, handle: undefined };
  const onSignal = (signal: NodeJS.Signals) => {
    if (signals.handle) signals.handle(signal);
    else signals.early = signal;
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const off = () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
  try {
    return await start(options, signals, off);
  } catch (e) {
    off();
    throw e;
  }
}

interface Signals {
  /** A SIGTERM or SIGINT that came before the daemon could stop gracefully. */
  early: NodeJS.Signals | undefined;
  handle: ((signal: NodeJS.Signals) => void) | undefined;
}

async function start(options: RunOptions, sig: Signals, offSignals: () => void): Promise<RunningDaemon> {
  const store = EndpointStore.open(options.home, { url: options.storeUrl });
  const lock = takeLock(options.home);
  let props: NbwssProperties = loadProperties(options.home);
  const { log, journal, stderrTTY, flushLog, flushLogNow, reopenLog } = openLog(options, props);

  const secrets = await options.openSecrets(store);
  const metrics = new MetricsEndpoint(store, log);
  await metrics.prepare(props);
  const daemon = new Daemon({
    store,
    secrets,
    log,
    properties: () => props,
    get metrics() {
      return metrics.current;
    },
    sharedUrl: options.storeUrl,
  });

  const storeId = store.storeId; // read once: a status answer must not need the store
  const loopLag = eventLoopLag();
  const statusOf = (): DaemonStatus & { ok: true } => {
    const base = {
      ok: true as const,
      protocol: CONTROL_PROTOCOL,
      version: typeof NBWSS_VERSION === 'string' ? NBWSS_VERSION : 'dev',
      pid: process.pid,
      startedAt: daemon.startedAt.toISOString(),
      uptimeSeconds: Math.round(process.uptime()),
      home: options.home,
      storeId,
      secretStore: secrets.name,
      /** How long the event loop was held (p99 and worst, ms) over the last one to two minutes. */
      eventLoopLag: loopLag.lastMinutes(),
      properties: props,
    };
    try {
      return { ...base, ...daemon.status() };
    } catch (e) {
      // The store does not answer (a shared store away): the daemon does, and says so.
      return { ...base, groups: [], storeError: (e as Error).message };
    }
  };
  const control = await serveControl(options.home, log, {
    status: statusOf,
    onChange: (fn) => daemon.onChange(fn),
    reload: () => reload(),
    notified: (refused, queued, count) => daemon.notified(refused, queued, count),
    pollNow: () => {
      daemon.poller.refresh();
      daemon.poller.pollNow();
    },
  });
  // The pid alone, as every pid file holds it: kill -HUP $(cat daemon.pid) works.
  writeFileSync(join(options.home, PID_FILE), `${process.pid}\n`, { mode: 0o600 });

  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      log.info({}, 'stopping');
      await daemon.stop();
      await metrics.close();
      await control.close();
      rmSync(join(options.home, PID_FILE), { force: true });
      lock.release();
      store.close();
      log.info({}, 'stopped');
      await flushLog();
      offSignals();
      process.off('SIGHUP', onHup);
      process.off('SIGUSR1', reopenLog);
      loopLag.stop();
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
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
      flushLogNow();
      process.exit(1);
    }
    stop().catch((err: Error) => {
      // A stop that failed half-way must not leave a process that ignores SIGTERM.
      log.error({ err: err.message }, 'the graceful stop failed; exiting');
      process.exit(1);
    });
  };
  function reload() {
    try {
      props = loadProperties(options.home);
      log.level = props['log.level'];
    } catch (e) {
      log.error({ err: (e as Error).message }, 'nbwss.properties is not valid; keeping the properties in force');
    }
    void metrics.apply(props);
    void daemon.reload();
  }
  const onHup = () => {
    log.info({}, 'SIGHUP: re-reading properties, reopening the log file and reconciling');
    reopenLog();
    reload();
  };
  // The last resort: an error nothing else caught is said in one line and the daemon stops cleanly (connections closed,
  // socket, pid file and lock removed), exit 1 — never a silent death or a screen of minified source.
  let fatal = false;
  const onFatal = (what: string) => (thrown: unknown) => {
    const err = thrown instanceof Error ? thrown : new Error(String(thrown));
    log.fatal({ err: err.message, at: err.stack?.split('\n')[1]?.trim() }, `${what}: stopping`);
    if (fatal) return;
    fatal = true;
    process.exitCode = 1;
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    stop()
      .catch(() => {})
      .finally(() => process.exit(1));
  };
  const onRejection = onFatal('an unexpected error (a bug: report it)');
  const onException = onFatal('an unexpected exception (a bug: report it)');
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  sig.handle = onTerm;
  process.on('SIGHUP', onHup);
  process.on('SIGUSR1', reopenLog);
  if (sig.early) {
    onTerm(sig.early);
    return { daemon, stopped, stop };
  }
  await metrics.apply(props);

  log.info({ home: options.home, secretStore: secrets.name, properties: props }, 'NBWSS daemon started');
  await daemon.start();
  // At a terminal without --log-stderr the daemon says one line that it runs (and one when it stops), not nothing.
  if (stderrTTY && !options.logStderr && !journal) {
    const groups = new Set(daemon.status().groups.map((g) => g.groupId)).size;
    options.stderr.write(
      `nbwss daemon ${typeof NBWSS_VERSION === 'string' ? NBWSS_VERSION : 'dev'} running (pid ${process.pid}): ${groups} server group${groups === 1 ? '' : 's'} of ${options.storeUrl ? safeStoreUrl(options.storeUrl) : options.home}; log: ${join(options.home, 'logs', 'nbwss.log')}; Ctrl-C stops it\n`,
    );
    void stopped.then(() => options.stderr.write('nbwss daemon stopped\n'));
  }
  // Started: from now on no other process's write lock holds the event loop (connections, pings, COMMANDs, status):
  // a write waits briefly and is tried again on a later tick (store-retry.ts).
  store.setLockWait(DAEMON_LOCK_WAIT_MS);
  return { daemon, stopped, stop };
}

/**
 * The daemon's log: the file in NBWSS_HOME/logs (none under systemd: the journal keeps and rotates it), and stderr
 * with --log-stderr or under systemd; JSON or text by log.format (auto: text at a terminal, JSON in the file and the
 * journal, which tools read). Tokens are redacted whatever the level.
 */
function openLog(options: RunOptions, props: NbwssProperties) {
  const journal = stderrIsJournal();
  const file = journal ? undefined : pino.destination({ dest: prepareLogFile(options.home), sync: false });
  const format = props['log.format'];
  const stderrTTY = Boolean((options.stderr as NodeJS.WriteStream).isTTY);
  const asText = (tty: boolean) => format === 'text' || (format === 'auto' && tty);
  const streams: pino.StreamEntry[] = file ? [{ stream: asText(false) ? textStream(file as unknown as NodeJS.WritableStream) : file }] : [];
  if (options.logStderr || journal)
    streams.push({ stream: asText(stderrTTY && !journal) ? textStream(options.stderr) : (options.stderr as NodeJS.WriteStream) });
  const log = pino(
    { base: { pid: process.pid }, level: props['log.level'], redact: { paths: ['token', '*.token', 'payload.token'], censor: '[redacted]' } },
    pino.multistream(streams.map((x) => ({ ...x, level: 'trace' as const }))),
  );
  /** What is logged so far, on disk now (exiting at once). */
  const flushLogNow = () => {
    try {
      file?.flushSync();
    } catch {
      /* not open: nothing was written to it */
    }
  };
  /** Everything logged is on disk; the file may still be opening when a stop comes right after the start. */
  const flushLog = async () => {
    if (!file) return;
    if ((file as unknown as { fd: number }).fd < 0) {
      await Promise.race([new Promise((r) => file.once('ready', r)), new Promise((r) => setTimeout(r, 2000).unref())]);
    }
    flushLogNow();
  };
  /** SIGUSR1, SIGHUP: logrotate moved the file away; a new one, checked as ours. */
  const reopenLog = () => {
    if (!file) return;
    try {
      prepareLogFile(options.home);
      file.reopen();
      log.info({}, 'log file reopened');
    } catch (e) {
      log.error({ err: (e as Error).message }, 'could not reopen the log file; logging on to the old one');
    }
  };
  return { log, journal, stderrTTY, flushLog, flushLogNow, reopenLog };
}

/** How long the event loop was held (p99 and worst, ms) over the last full minute and the one running (status --json). */
function eventLoopLag() {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const ms = (ns: number) => Math.round(ns / 1e5) / 10;
  let lastMinute = { p99Ms: 0, maxMs: 0 };
  const window = setInterval(() => {
    lastMinute = { p99Ms: ms(loop.percentile(99)), maxMs: ms(loop.max) };
    loop.reset();
  }, 60_000);
  window.unref();
  return {
    lastMinutes: () =>
      loop.count > 0 ? { p99Ms: Math.max(lastMinute.p99Ms, ms(loop.percentile(99))), maxMs: Math.max(lastMinute.maxMs, ms(loop.max)) } : lastMinute,
    stop: () => {
      clearInterval(window);
      loop.disable();
    },
  };
}

/**
 * The Prometheus endpoint as metrics.listen says: served, moved or stopped when the property changes (SIGHUP). The
 * counters are made once (at start when metrics.listen is set, else at the first SIGHUP that sets it) and kept across
 * moves; prom-client is loaded only then.
 */
class MetricsEndpoint {
  private metrics: Metrics | undefined;
  /** The metrics.listen being served ('' none). */
  private servedAt = '';

  constructor(
    private readonly store: EndpointStore,
    private readonly log: pino.Logger,
  ) {}

  /** What the daemon counts into (undefined: no metrics). */
  get current(): Metrics | undefined {
    return this.metrics;
  }

  /** Make the counters before the daemon starts counting, when metrics.listen is set. */
  async prepare(props: NbwssProperties): Promise<void> {
    if (parseListen(props['metrics.listen'])) await this.made();
  }

  /** Serve at metrics.listen now (nothing to do when it did not change); a failure (to load the metrics, to listen) is logged, never thrown. */
  async apply(props: NbwssProperties): Promise<void> {
    const want = props['metrics.listen'];
    if (want === this.servedAt) return;
    await this.metrics?.close();
    this.servedAt = want;
    const at = parseListen(want);
    if (!at) return;
    try {
      const metrics = await this.made();
      const bound = await metrics.listen(at.host, at.port);
      this.log.info({ address: bound.address, port: bound.port }, 'serving Prometheus metrics at /metrics');
    } catch (e) {
      this.log.error({ listen: want, err: (e as Error).message }, 'cannot serve metrics on metrics.listen');
    }
  }

  close(): Promise<void> {
    return this.metrics?.close() ?? Promise.resolve();
  }

  private async made(): Promise<Metrics> {
    const { Metrics } = await import('./metrics.js');
    this.metrics ??= new Metrics(this.store, () => new Date());
    return this.metrics;
  }
}
