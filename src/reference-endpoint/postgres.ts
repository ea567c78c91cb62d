import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import pg from 'pg';

/** A port on 127.0.0.1 that nothing listens on now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A real, throwaway PostgreSQL for the shared-store tests and bench:ha (never used by the CLI or the daemon): initdb and pg_ctl
 * (Debian's postgresql) in a temporary directory, on 127.0.0.1 and a free
 * port, trust authentication, fsync off; removed by stop(). As root the
 * server runs as the postgres user (initdb refuses root).
 */
export interface Postgres {
  port: number;
  /** A new empty database's URL. */
  database(): Promise<string>;
  /** pg_ctl stop (fast), then start again on the same port: an outage. */
  stopServer(): void;
  startServer(): void;
  /** SIGSTOP every process of the server (a paused VM: connections stay open, nothing answers); resumeServer: SIGCONT. */
  pauseServer(): void;
  resumeServer(): void;
  stop(): void;
}

function bin(name: string): string | undefined {
  const onPath = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
  if (onPath) return onPath;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  for (const v of readdirSync(root).sort().reverse()) if (existsSync(join(root, v, 'bin', name))) return join(root, v, 'bin', name);
  return undefined;
}

/** Whether a PostgreSQL server can be started here (under CI=true its absence is a failure, said by the caller). */
export const postgresAvailable = (): boolean => bin('initdb') !== undefined && bin('pg_ctl') !== undefined;

/** The postmaster (first line of postmaster.pid) and its children. */
function signalServer(data: string, signal: NodeJS.Signals): void {
  const master = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  // Its children from /proc (field 4 of stat is the parent's pid; the name before it is in parentheses).
  const children = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        return (
          Number(
            readFileSync(`/proc/${pid}/stat`, 'utf8')
              .replace(/^.*\) /s, '')
              .split(' ')[1],
          ) === master
        );
      } catch {
        return false;
      }
    })
    .map(Number);
  // Children first on the way down, the postmaster first on the way up: none of them acts on the others meanwhile.
  const order = signal === 'SIGSTOP' ? [...children, master] : [master, ...children];
  for (const pid of order) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone meanwhile
    }
  }
}

export async function startPostgres(): Promise<Postgres> {
  const initdb = bin('initdb');
  const pgCtl = bin('pg_ctl');
  if (!initdb || !pgCtl) throw new Error('PostgreSQL (initdb, pg_ctl) is not installed: .ci/run installs Debian postgresql');
  const root = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'nbwss-pg-'));
  const as = (cmd: string, args: string[]) =>
    root ? execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'pipe' }) : execFileSync(cmd, args, { stdio: 'pipe' });
  if (root) {
    const { uid, gid } = JSON.parse(execFileSync('sh', ['-c', 'printf \'{"uid":%s,"gid":%s}\' "$(id -u postgres)" "$(id -g postgres)"']).toString());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  as(initdb, ['-D', data, '-A', 'trust', '-U', 'nbwss', '--locale=C', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  const start = () =>
    as(pgCtl, [
      '-D',
      data,
      '-l',
      join(dir, 'server.log'),
      '-w',
      '-t',
      '30',
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`,
      'start',
    ]);
  start();
  let databases = 0;
  const admin = `postgres://nbwss@127.0.0.1:${port}/postgres`;
  return {
    port,
    async database() {
      const name = `t${process.pid}_${++databases}`;
      const client = new pg.Client({ connectionString: admin });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return `postgres://nbwss@127.0.0.1:${port}/${name}`;
    },
    stopServer: () => void as(pgCtl, ['-D', data, '-m', 'fast', '-w', 'stop']),
    startServer: () => void start(),
    pauseServer: () => signalServer(data, 'SIGSTOP'),
    resumeServer: () => signalServer(data, 'SIGCONT'),
    stop() {
      try {
        as(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
