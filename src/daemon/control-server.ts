import { chmodSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import type { DaemonStatus } from '../core/daemon-protocol.js';
import { daemonSocket, MAX_CONTROL_REQUEST_BYTES, socketAddress } from '../core/daemon-client.js';
import type { Logger } from './connection.js';

/** The live views (`nbwss status --watch`) served at once; one more is answered "too many watchers". */
export const MAX_WATCHERS = 32;

/** What the control socket asks of the daemon. */
export interface ControlHandlers {
  /** The status now (`status`, each line of `watch`). */
  status(): DaemonStatus & { ok: true };
  /** Be told when the status may have changed; returns how to stop. */
  onChange(fn: () => void): () => void;
  /** Re-read the properties and reconcile (`reconcile`: a CLI changed the store or the properties). */
  reload(): void;
  /** Notifications were queued (`notify`): the groups refused and queued, and how many. */
  notified(refused: { groupId: string; pending: number }[], queued: string[], count: number): void;
  /** Poll the REST API now (`poll`). */
  pollNow(): void;
}

export interface ControlServer {
  /** End every client (watchers too), stop listening and remove the socket. */
  close(): Promise<void>;
}

/**
 * The daemon's control socket (daemon.sock in the store directory, 0600): one short JSON line per request, answered
 * with one line (src/core/daemon-protocol.ts), or, for `watch`, a line now and again whenever the status changes
 * (at most every 100 ms). A client that sends more than MAX_CONTROL_REQUEST_BYTES without a newline is dropped.
 * The caller holds the daemon lock: a socket left by a killed daemon is removed first.
 */
export async function serveControl(home: string, log: Logger, handlers: ControlHandlers): Promise<ControlServer> {
  const sockPath = daemonSocket(home);
  rmSync(sockPath, { force: true });
  const address = socketAddress(home); // inside the store, however long its path
  const clients = new Set<Socket>();
  let watchers = 0;

  const answer = (client: Socket, line: string): void => {
    let req: { cmd?: string; refused?: unknown; queued?: unknown; count?: unknown };
    try {
      req = JSON.parse(line);
    } catch {
      return void client.end('{"ok":false}\n');
    }
    if (req.cmd === 'reconcile') {
      log.info({}, 'nudged by the CLI: re-reading properties and reconciling');
      handlers.reload();
      client.end('{"ok":true}\n');
    } else if (req.cmd === 'notify') {
      const refused = Array.isArray(req.refused)
        ? req.refused.filter((r): r is { groupId: string; pending: number } => typeof r?.groupId === 'string' && typeof r?.pending === 'number')
        : [];
      const queued = Array.isArray(req.queued) ? req.queued.filter((g): g is string => typeof g === 'string') : [];
      handlers.notified(refused, queued, Number.isSafeInteger(req.count) && (req.count as number) >= 0 ? (req.count as number) : 0);
      client.end('{"ok":true}\n');
    } else if (req.cmd === 'poll') {
      // nbwss api poll, a notify script: poll the REST API now rather than at the next scheduledRate.
      handlers.pollNow();
      client.end('{"ok":true}\n');
    } else if (req.cmd === 'watch') {
      if (watchers >= MAX_WATCHERS) return void client.end('{"ok":false,"error":"too many watchers"}\n');
      watchers++;
      watch(client, () => watchers--);
    } else if (req.cmd === 'status') {
      client.end(`${JSON.stringify(handlers.status())}\n`);
    } else client.end('{"ok":false}\n');
  };

  /** The live view: the status now, then again whenever it may have changed (at most every 100 ms), unless the same. */
  const watch = (client: Socket, ended: () => void): void => {
    let last = '';
    let timer: NodeJS.Timeout | undefined;
    const push = () => {
      timer = undefined;
      const line = `${JSON.stringify(handlers.status())}\n`;
      if (line === last || client.destroyed) return;
      last = line;
      client.write(line);
    };
    const stop = handlers.onChange(() => {
      timer ??= setTimeout(push, 100);
    });
    client.on('close', () => {
      ended();
      stop();
      clearTimeout(timer);
    });
    push();
  };

  const server = createServer((client) => {
    clients.add(client);
    client.on('close', () => clients.delete(client));
    let received = '';
    let answered = false;
    client.setEncoding('utf8');
    client.on('error', () => {});
    client.on('data', (chunk: string) => {
      if (answered) return;
      received += chunk;
      const newline = received.indexOf('\n');
      if (newline === -1) {
        // One short JSON line per request: a client that sends more without a newline is dropped.
        if (received.length > MAX_CONTROL_REQUEST_BYTES) client.destroy();
        return;
      }
      answered = true;
      try {
        answer(client, received.slice(0, newline));
      } catch (e) {
        log.error({ err: (e as Error).message }, 'a control request failed');
        client.end('{"ok":false}\n');
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.path, () => resolve());
  });
  chmodSync(sockPath, 0o600);

  return {
    async close() {
      // Watchers stay connected: end them, or the server would wait for them forever.
      for (const client of clients) client.end();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const force = setTimeout(() => {
        for (const client of clients) client.destroy();
      }, 1000);
      await closed;
      clearTimeout(force);
      address.release();
      rmSync(sockPath, { force: true });
    },
  };
}
