import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { tempDir } from './tmp.js';

export const BIN = fileURLToPath(new URL('../../bin/nbwss.cjs', import.meta.url));

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Home {
  dir: string;
  keyFile: string;
  /** Environment for a CLI run against this store with the file secret store. */
  env: NodeJS.ProcessEnv;
}

let databases = 0;

/**
 * Whether this run puts each test home's store in PostgreSQL (vitest.pg.config.ts). Tests of
 * what only a SQLite store in NBWSS_HOME has (its files and modes, a keychain, a store that
 * does not exist yet) do not apply then, and say so by skipping.
 */
export const sharedStoreRun = Boolean(pgPort());

function pgPort(): number | undefined {
  try {
    return inject('pgPort');
  } catch {
    return undefined; // outside a test run (a script importing the helpers)
  }
}

/**
 * A shared store for this home when the suites run against PostgreSQL
 * (vitest.pg.config.ts): a new database in the run's throwaway cluster.
 */
function testDatabase(): string | undefined {
  const port = pgPort();
  if (!port) return undefined;
  const name = `h${process.pid}_${++databases}`;
  const r = spawnSync('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'nbwss', '-d', 'postgres', '-qc', `CREATE DATABASE ${name}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot create the test database: ${r.stderr}`);
  return `postgres://nbwss@127.0.0.1:${port}/${name}`;
}

/**
 * The 'postgres' project's store. Its tests run one daemon per store, so nothing else can be starting beside it: the
 * daemon's wait after a start, meant for daemons starting together (src/daemon/share.ts, settling), is set to 0
 * through the test hook; 2-3 s a daemon start otherwise. The shared-store suites (ha, store-faults, store-outage, postgres)
 * keep the real wait.
 */
function sharedStoreEnv(url: string): NodeJS.ProcessEnv {
  return { NBWSS_STORE: url, NBWSS_TEST_HOOKS: '1', NBWSS_TEST_SETTLE_MS: '0' };
}

/** A fresh NBWSS_HOME using the file secret store, isolated from the user's own (its store in PostgreSQL under vitest.pg.config.ts). */
export function newHome(extra: NodeJS.ProcessEnv = {}): Home {
  const root = tempDir('nbwss-home-');
  const dir = join(root, 'store');
  const keyFile = join(root, 'secret.key');
  const shared = testDatabase();
  return {
    dir,
    keyFile,
    env: { NBWSS_HOME: dir, NBWSS_SECRET_STORE: 'file', NBWSS_SECRET_KEY_FILE: keyFile, HOME: root, ...(shared ? sharedStoreEnv(shared) : {}), ...extra },
  };
}

/** The environment a CLI run starts from: no colour settings, no session bus, nothing of the user's store. */
export function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const k of ['PATH', 'LANG', 'TMPDIR', 'SYSTEMROOT']) if (process.env[k] !== undefined) env[k] = process.env[k];
  return env;
}

export function spawnCli(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], { env: { ...baseEnv(), ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
}

export function runCli(args: string[], env: NodeJS.ProcessEnv, input?: string | Buffer): Promise<RunResult> {
  const child = spawnCli(args, env);
  return collect(child, input);
}

export function collect(child: ChildProcess, input?: string | Buffer): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin!.on('error', () => {});
  child.stdin!.end(input);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** A details file (mode 0600 unless given) holding `details` as JSON, or raw text. */
export function detailsFile(details: unknown, mode = 0o600): string {
  const p = join(tempDir('nbwss-details-'), 'endpoint.json');
  writeFileSync(p, typeof details === 'string' || Buffer.isBuffer(details) ? details : JSON.stringify(details, null, 2));
  chmodSync(p, mode);
  return p;
}

export const details = (o: Partial<Record<'token' | 'groupId' | 'hostName' | 'url', string>> & { priority?: unknown } = {}) => ({
  token: 'tok-Secret-123',
  priority: 1,
  groupId: 'sg1',
  hostName: 'localhost',
  url: 'wss://127.0.0.1:1/nbwss',
  ...o,
});

/** No stack trace in what the CLI printed. */
export const hasStackTrace = (s: string) => /\n\s+at .+(:\d+:\d+|\(node:)/.test(s);
