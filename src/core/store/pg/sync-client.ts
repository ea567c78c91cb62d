import { createRequire } from 'node:module';
import type { MessagePort, Worker } from 'node:worker_threads';

/**
 * PostgreSQL with the store's synchronous interface. The store's callers run
 * a write as one synchronous function (better-sqlite3's model: the token and
 * the entry in one transaction, nothing interleaved); a PostgreSQL store
 * keeps that model by running `pg` (the node-postgres driver) in a worker
 * thread, one connection, while the calling thread waits on a shared flag
 * (Atomics.wait) for each statement's answer, with a time bound. Statements
 * are always parameterised.
 */

export interface PgResult {
  rows: Record<string, unknown>[];
  rowCount: number;
}

export class PgError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

// The worker: plain CommonJS evaluated in the thread, requiring pg by the path the caller resolved.
const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const pg = require(workerData.pgPath);
// Whole numbers as numbers (counts, sequence numbers and epoch seconds fit in 2^53).
pg.types.setTypeParser(20, (v) => Number(v));
const flag = new Int32Array(workerData.sab);
const port = workerData.port;
let client;
let broken = false;
let failedAt = 0;
let lastError = '';
async function connected() {
  if (client && !broken) return client;
  // Just failed: fail fast for a second rather than block the caller on every statement while the store is away.
  if (Date.now() - failedAt < 1000) throw Object.assign(new Error(lastError || 'the store is unreachable'), { code: 'NBWSS_UNREACHABLE' });
  if (client) client.end().catch(() => {});
  broken = false;
  client = new pg.Client({ connectionString: workerData.url, connectionTimeoutMillis: workerData.connectTimeoutMs, query_timeout: workerData.queryTimeoutMs, application_name: workerData.name, keepAlive: true });
  client.on('error', () => { broken = true; });
  try {
    await client.connect();
  } catch (e) {
    failedAt = Date.now();
    lastError = e.message;
    broken = true;
    throw e;
  }
  return client;
}
port.on('message', async (m) => {
  let answer;
  try {
    if (m.op === 'end') {
      if (client) await client.end().catch(() => {});
      client = undefined;
      answer = { ok: true };
    } else {
      const c = await connected();
      const r = await c.query(m.params ? { text: m.sql, values: m.params, ...(m.timeoutMs ? { query_timeout: m.timeoutMs } : {}) } : m.sql);
      const last = Array.isArray(r) ? r[r.length - 1] : r;
      answer = { rows: last.rows ?? [], rowCount: last.rowCount ?? 0 };
    }
  } catch (e) {
    // An error the server answered with (a lock_timeout, a constraint) leaves the connection usable; anything
    // else (no answer, a reset, a shutdown: classes 08 and 57P) means a new connection.
    const answered = e instanceof pg.DatabaseError && !/^(08|57P)/.test(e.code || '');
    if (!answered) {
      if (!broken) failedAt = Date.now();
      broken = true;
      lastError = e.message;
    }
    answer = { error: { message: e.message, code: e.code } };
  }
  port.postMessage(answer);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
`;

export interface SyncPgOptions {
  /** How long one statement may take, answer included, before the call fails (ms). */
  timeoutMs?: number;
  connectTimeoutMs?: number;
  /** A statement without an answer after this long fails (a dead connection is not waited on). */
  queryTimeoutMs?: number;
  /** application_name, seen in pg_stat_activity. */
  name?: string;
}

export class SyncPg {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly flag: Int32Array;
  private readonly timeoutMs: number;
  private closed = false;

  constructor(
    readonly url: string,
    options: SyncPgOptions = {},
  ) {
    // Loaded here, not at import: every command that opens a store imports this file, few use PostgreSQL (3 ms at start).
    const { MessageChannel, Worker } = process.getBuiltinModule('node:worker_threads');
    const sab = new SharedArrayBuffer(4);
    this.flag = new Int32Array(sab);
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.timeoutMs = options.timeoutMs ?? 15_000;
    const pgPath = createRequire(import.meta.url).resolve('pg');
    this.worker = new Worker(WORKER, {
      eval: true,
      workerData: {
        url,
        sab,
        port: port2,
        pgPath,
        connectTimeoutMs: options.connectTimeoutMs ?? 3000,
        queryTimeoutMs: options.queryTimeoutMs ?? 5000,
        name: options.name ?? 'nbwss',
      },
      transferList: [port2],
    });
    // The thread never keeps the process alive; close() ends it.
    this.worker.unref();
    this.port.unref();
  }

  /** One statement; `timeoutMs` for one that may rightly wait longer (a lock held by another writer). */
  query(sql: string, params?: unknown[], timeoutMs?: number): PgResult {
    if (this.closed) throw new PgError('the PostgreSQL store is closed', undefined);
    Atomics.store(this.flag, 0, 0);
    this.port.postMessage({ sql, params, timeoutMs });
    if (Atomics.wait(this.flag, 0, 0, Math.max(this.timeoutMs, (timeoutMs ?? 0) + 5000)) === 'timed-out') {
      // The answer would come for a statement nobody waits for: this connection is done.
      this.closed = true;
      void this.worker.terminate();
      throw new PgError(`PostgreSQL did not answer within ${this.timeoutMs} ms`, 'NBWSS_TIMEOUT');
    }
    const answer = process.getBuiltinModule('node:worker_threads').receiveMessageOnPort(this.port)?.message as
      | (PgResult & { error?: { message: string; code?: string } })
      | undefined;
    if (!answer) throw new PgError('no answer from the PostgreSQL worker', undefined);
    if (answer.error) throw new PgError(answer.error.message, answer.error.code);
    return answer;
  }

  close(): void {
    if (this.closed) return;
    try {
      Atomics.store(this.flag, 0, 0);
      this.port.postMessage({ op: 'end' });
      Atomics.wait(this.flag, 0, 0, 2000);
    } finally {
      this.closed = true;
      void this.worker.terminate();
    }
  }
}
