import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BIN, newHome, runCli } from '../helpers/cli.js';
import { startDaemon, stopAllDaemons } from '../helpers/daemon.js';
import { jobNotification } from '../helpers/setup.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import { until } from '../helpers/wait.js';

// nbwss lab: the stand-ins run from the installed CLI (here the built one; the release test runs the tarball's).

afterEach(stopAllDaemons);
const started: ChildProcess[] = [];
afterAll(async () => {
  for (const c of started) if (c.exitCode === null) c.kill('SIGTERM');
  await Promise.all(started.map((c) => (c.exitCode === null ? new Promise((r) => c.on('exit', r)) : undefined)));
  cleanupTempDirs();
});

/** Start `nbwss lab NAME args`; its stdout lines and stderr as they come. */
function lab(name: string, args: string[]) {
  const child = spawn(process.execPath, [BIN, 'lab', name, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  started.push(child);
  const out: string[] = [];
  let err = '';
  createInterface({ input: child.stdout! }).on('line', (l) => out.push(l));
  child.stderr!.on('data', (d) => (err += d));
  const stop = () => {
    child.kill('SIGTERM');
    return new Promise<number | null>((r) => (child.exitCode !== null ? r(child.exitCode) : child.on('exit', (c) => r(c))));
  };
  return { child, out, err: () => err, stop };
}

describe('nbwss lab endpoint', () => {
  it('prints each CONNECT, NOTIFICATION and COMMAND RESPONSE on one line, sends the COMMAND typed on stdin, and keeps its identity across restarts with --state-dir', async () => {
    const state = tempDir('nbwss-lab-');
    const file = join(state, 'endpoint.json');
    const ep = lab('endpoint', ['--state-dir', state, '--details', file, '--group', 'labg']);
    await until(() => ep.err().includes('listening on'), 20_000, 'the endpoint listening');
    const first = /certificate SHA-256 (\S+)/.exec(ep.err())![1];
    const details = JSON.parse(readFileSync(file, 'utf8'));
    const h = newHome();
    expect((await runCli(['add', '--file', file, '--yes'], h.env)).code).toBe(0);
    const d = startDaemon(h.env);
    await until(() => ep.out.some((l) => /^CONNECT REQUEST \S+: token accepted$/.test(l)), 30_000, 'CONNECT printed');
    expect((await runCli(['notify'], h.env, `${JSON.stringify(jobNotification(4242))}\n`)).code).toBe(0);
    await until(() => ep.out.some((l) => /^NOTIFICATION REQUEST \S+: 1 notification: JOB 4242 BACKUP DONE$/.test(l)), 30_000, 'NOTIFICATION printed');
    // A COMMAND typed by the person watching: nbwss answers (no REST service set up here: its own 5xx answer).
    ep.child.stdin!.write('GET /netbackup/admin/jobs\n');
    await until(() => ep.out.some((l) => l === 'COMMAND REQUEST sent: GET /netbackup/admin/jobs'), 10_000, 'COMMAND sent');
    await until(() => ep.out.some((l) => /^COMMAND RESPONSE \S+: \d{3} /.test(l)), 30_000, 'COMMAND RESPONSE printed');
    expect(await ep.stop()).toBe(0);

    // Restarted with the same --state-dir: the same certificate and token, so the daemon's pin and token still fit.
    const again = lab('endpoint', ['--state-dir', state, '--port', String(new URL(details.url).port)]);
    await until(() => again.err().includes('listening on'), 20_000, 'the endpoint listening again');
    expect(/certificate SHA-256 (\S+)/.exec(again.err())![1]).toBe(first);
    await until(() => again.out.some((l) => /token accepted$/.test(l)), 60_000, 'the daemon reconnected to the restarted endpoint');
    expect(d.lines.some((l) => String(l.msg).includes('certificate'))).toBe(false);
    await again.stop();
  }, 180_000);
});

describe('nbwss lab primary', () => {
  it('keeps its certificate and API key across restarts with --state-dir; --help is its own', async () => {
    const state = tempDir('nbwss-lab-');
    const keyFile = join(state, 'apikey');
    const run1 = lab('primary', ['--state-dir', state, '--api-key-file', keyFile]);
    await until(() => run1.err().includes('certificate SHA-256'), 20_000, 'the primary listening');
    const fp = /certificate SHA-256 (\S+)/.exec(run1.err())![1];
    const key = readFileSync(keyFile, 'utf8');
    await run1.stop();
    const run2 = lab('primary', ['--state-dir', state, '--api-key-file', keyFile]);
    await until(() => run2.err().includes('certificate SHA-256'), 20_000, 'the primary listening again');
    expect(/certificate SHA-256 (\S+)/.exec(run2.err())![1]).toBe(fp);
    expect(readFileSync(keyFile, 'utf8')).toBe(key);
    await run2.stop();
    const help = await runCli(['lab', 'primary', '--help'], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: nbwss lab primary');
    const bad = await runCli(['lab', 'primary', '--release', '7.0'], {});
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--release must be one of');
  }, 60_000);
});
