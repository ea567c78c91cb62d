import { existsSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { DaemonStatus } from '../../src/core/daemon-protocol.js';
import { daemonSocket, MAX_CONTROL_REQUEST_BYTES } from '../../src/core/daemon-client.js';
import { type ControlHandlers, type ControlServer, MAX_WATCHERS, serveControl } from '../../src/daemon/control-server.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

// The daemon's control socket (src/daemon/control-server.ts) on a real unix socket, with handlers that record what
// they are asked: one JSON line per request and its answer, the live view, and the bounds a local client cannot pass.

afterAll(cleanupTempDirs);
const running: ControlServer[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const server of running.splice(0)) await server.close();
});

const silent = { info() {}, warn() {}, error() {}, debug() {} };

async function setUp() {
  const home = tempDir();
  let uptime = 0;
  let broken: Error | undefined;
  const changes = new Set<() => void>();
  const asked = { reload: 0, poll: 0, statuses: 0, notified: [] as Parameters<ControlHandlers['notified']>[] };
  const handlers: ControlHandlers = {
    status: () => {
      asked.statuses++;
      if (broken) throw broken;
      const status = { ok: true, pid: 1, startedAt: '2026-12-02T12:00:00.000Z', uptimeSeconds: uptime, secretStore: 'file', groups: [] };
      return status as unknown as DaemonStatus & { ok: true };
    },
    onChange: (fn) => {
      changes.add(fn);
      return () => changes.delete(fn);
    },
    reload: () => void asked.reload++,
    notified: (...args) => void asked.notified.push(args),
    pollNow: () => void asked.poll++,
  };
  const server = await serveControl(home, silent, handlers);
  running.push(server);
  return {
    home,
    server,
    asked,
    changes,
    /** From now on, reading the status throws this. */
    breakStatus: (e: Error) => {
      broken = e;
    },
    /** Change what the status says, and tell the watchers. */
    tick: () => {
      uptime++;
      for (const fn of changes) fn();
    },
  };
}

/** A client of the socket: what it received, and whether the daemon closed it. */
function client(home: string) {
  const socket = connect(daemonSocket(home));
  sockets.push(socket);
  const state = { text: '', closed: false };
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    state.text += chunk;
  });
  socket.on('close', () => {
    state.closed = true;
  });
  socket.on('error', () => {});
  const lines = () => state.text.split('\n').filter(Boolean);
  return { socket, state, lines };
}

/** Send one request and wait for the daemon to answer and close. */
async function ask(home: string, request: string): Promise<string> {
  const c = client(home);
  c.socket.write(request);
  await until(() => c.state.closed);
  return c.state.text;
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
};

describe('the control socket', () => {
  it('is the store directory’s daemon.sock, 0600; close() removes it', async () => {
    const { home, server } = await setUp();
    expect(statSync(daemonSocket(home)).mode & 0o777).toBe(0o600);
    await server.close();
    running.splice(0);
    expect(existsSync(daemonSocket(home))).toBe(false);
  });

  it('status: the status in one JSON line', async () => {
    const { home } = await setUp();
    expect(JSON.parse(await ask(home, '{"cmd":"status"}\n'))).toMatchObject({ ok: true, pid: 1, groups: [] });
  });

  it('reconcile and poll reach the daemon and are answered ok', async () => {
    const { home, asked } = await setUp();
    expect(await ask(home, '{"cmd":"reconcile"}\n')).toBe('{"ok":true}\n');
    expect(await ask(home, '{"cmd":"poll"}\n')).toBe('{"ok":true}\n');
    expect(asked).toMatchObject({ reload: 1, poll: 1 });
  });

  it('notify: only well-formed groups pass, and a count that is not a non-negative integer is 0', async () => {
    const { home, asked } = await setUp();
    const request = {
      cmd: 'notify',
      count: 3,
      queued: ['g1', 7, null, 'g2'],
      refused: [{ groupId: 'g3', pending: 10 }, { groupId: 4, pending: 1 }, { groupId: 'g5' }, null],
    };
    expect(await ask(home, `${JSON.stringify(request)}\n`)).toBe('{"ok":true}\n');
    expect(await ask(home, '{"cmd":"notify","count":-1}\n')).toBe('{"ok":true}\n');
    expect(await ask(home, '{"cmd":"notify","count":1.5,"queued":"g1"}\n')).toBe('{"ok":true}\n');
    expect(asked.notified).toEqual([
      [[{ groupId: 'g3', pending: 10 }], ['g1', 'g2'], 3],
      [[], [], 0],
      [[], [], 0],
    ]);
  });

  it('a line that is not JSON, or a command it does not know: {"ok":false}', async () => {
    const { home, asked } = await setUp();
    expect(await ask(home, 'status\n')).toBe('{"ok":false}\n');
    expect(await ask(home, '{"cmd":"shutdown"}\n')).toBe('{"ok":false}\n');
    expect(asked).toMatchObject({ reload: 0, poll: 0, notified: [] });
  });

  it(`a client that sends more than ${MAX_CONTROL_REQUEST_BYTES} bytes without a newline is dropped, unanswered`, async () => {
    const { home } = await setUp();
    const c = client(home);
    c.socket.write('x'.repeat(MAX_CONTROL_REQUEST_BYTES + 1));
    await until(() => c.state.closed);
    expect(c.state.text).toBe('');
  });

  it('a request whose answer fails is answered {"ok":false} (and said in the log); the socket serves on', async () => {
    const { home, breakStatus } = await setUp();
    breakStatus(new Error('the store does not answer'));
    expect(await ask(home, '{"cmd":"status"}\n')).toBe('{"ok":false}\n');
    expect(await ask(home, '{"cmd":"poll"}\n')).toBe('{"ok":true}\n');
  });

  it(`a request of exactly ${MAX_CONTROL_REQUEST_BYTES} bytes before its newline is still read`, async () => {
    const { home } = await setUp();
    const c = client(home);
    c.socket.write('x'.repeat(MAX_CONTROL_REQUEST_BYTES));
    c.socket.write('\n');
    await until(() => c.state.closed);
    expect(c.state.text).toBe('{"ok":false}\n');
  });

  it('a store directory that is not there: serving fails at once, with the reason', async () => {
    await expect(serveControl('/nonexistent/nbwss-home', silent, {} as ControlHandlers)).rejects.toThrow(/^listen E/);
  });

  it('only the first line of a connection is read', async () => {
    const { home, asked } = await setUp();
    expect(await ask(home, '{"cmd":"poll"}\n{"cmd":"reconcile"}\n')).toBe('{"ok":true}\n');
    expect(asked).toMatchObject({ reload: 0, poll: 1 });
  });
});

describe('watch: the live view', () => {
  it('the status now, again when it changes, never the same line twice', async () => {
    const { home, tick, changes, asked } = await setUp();
    const watcher = client(home);
    watcher.socket.write('{"cmd":"watch"}\n');
    await until(() => watcher.lines().length === 1 && changes.size === 1);
    tick();
    await until(() => watcher.lines().length === 2);
    // Told of a change that changed nothing shown: the status is read again, and no line sent.
    const statuses = asked.statuses;
    for (const fn of changes) fn();
    await until(() => asked.statuses > statuses);
    tick();
    await until(() => watcher.lines().length === 3);
    expect(watcher.lines().map((line) => JSON.parse(line).uptimeSeconds)).toEqual([0, 1, 2]);
    expect(watcher.state.closed).toBe(false);
  });

  it(`at most ${MAX_WATCHERS} at once: one more is told so; a watcher that leaves makes room and stops listening`, async () => {
    const { home, changes } = await setUp();
    const watchers = Array.from({ length: MAX_WATCHERS }, () => client(home));
    for (const w of watchers) w.socket.write('{"cmd":"watch"}\n');
    await until(() => changes.size === MAX_WATCHERS);
    expect(await ask(home, '{"cmd":"watch"}\n')).toBe('{"ok":false,"error":"too many watchers"}\n');
    watchers[0]!.socket.destroy();
    await until(() => changes.size === MAX_WATCHERS - 1);
    const late = client(home);
    late.socket.write('{"cmd":"watch"}\n');
    await until(() => late.lines().length === 1);
    expect(JSON.parse(late.lines()[0]!)).toMatchObject({ ok: true, pid: 1 });
  });

  it('close() ends the watchers still connected', async () => {
    const { home, server, changes } = await setUp();
    const watcher = client(home);
    watcher.socket.write('{"cmd":"watch"}\n');
    await until(() => changes.size === 1);
    await server.close();
    running.splice(0);
    await until(() => watcher.state.closed);
  });
});
