import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type NetBackupApi, startNetBackupApi } from '../../src/reference-endpoint/netbackup-api.js';
import { guideScenario } from '../../src/reference-endpoint/scenario.js';
import { BIN, baseEnv, type Home, runCli } from '../helpers/cli.js';
import { startDaemon, stopAllDaemons } from '../helpers/daemon.js';
import { addEndpoint, connected, homeWith, useReferenceEndpoints } from '../helpers/setup.js';
import { cleanupTempDirs } from '../helpers/tmp.js';

const endpoint = useReferenceEndpoints();
const primaries: NetBackupApi[] = [];
afterEach(async () => {
  await stopAllDaemons();
  await Promise.all(primaries.splice(0).map((p) => p.close()));
});
afterAll(cleanupTempDirs);

const CONTRIB = fileURLToPath(new URL('../../contrib/notify/', import.meta.url));
const KEY = 'scripts-api-key-0123456789';
const tmp = mkdtempSync(join(tmpdir(), 'nbwss-scripts-'));
// The scripts call "$NBWSS": here the CLI under test, as an installed nbwss would be.
const wrapper = join(tmp, 'nbwss');
writeFileSync(wrapper, `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, { mode: 0o755 });

/** Run a contrib/notify script as NetBackup does: its documented arguments, no terminal. */
function runScript(h: Home, name: string, args: string[], log: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      '/bin/sh',
      [join(CONTRIB, name), ...args],
      { env: { ...baseEnv(), ...h.env, NBWSS: wrapper, NBWSS_NOTIFY_LOG: log, NBWSS_NOTIFY_TIMEOUT: '30' }, timeout: 40_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function setup(props: Record<string, string | number | boolean> = {}) {
  const ep = await endpoint();
  const p = await startNetBackupApi({ auth: { apiKeys: [KEY] } });
  primaries.push(p);
  const h = homeWith({ 'api.baseUrl': p.baseUrl, 'notification.scheduledRate': 1, ...props });
  expect((await runCli(['api', 'pin', '--fingerprint', p.fingerprint], h.env)).code).toBe(0);
  expect((await runCli(['api', 'key', 'set'], h.env, `${KEY}\n`)).code).toBe(0);
  await addEndpoint(h, 'ep1.test', ep.url);
  const s = guideScenario();
  for (const step of s.steps.slice(0, 3)) step.apply(p); // the jobs of examples A–C running
  return { ep, p, h, s, log: join(h.dir, '..', 'notify.log') };
}

const pending = async (h: Home) => JSON.parse((await runCli(['status', '--json'], h.env)).stdout).outbox as { pending: number }[];

describe('contrib/notify: NetBackup notify scripts → JOB notifications', () => {
  it('backup_exit_notify with its documented arguments queues the job (no daemon running), delivered as the guide example E once the daemon starts', async () => {
    const { ep, p, h, s, log } = await setup();
    s.steps[4]!.apply(p); // E: job 146 done
    const r = await runScript(h, 'backup_exit_notify', ['DummyTestVM', 'vmware2', 'full', 'FULL', '0', '0', '1'], log);
    expect(r.code).toBe(0);
    expect(existsSync(log)).toBe(false); // nothing went wrong
    expect(await pending(h)).toMatchObject([{ groupId: 'sg1', pending: 1 }]);
    const d = startDaemon(h.env);
    await d.waitFor(connected('ep1.test'));
    const [n] = await ep.waitForNotifications(1);
    expect(n!.data).toEqual({
      scheduleType: 'ST_FULL',
      clientName: 'DummyTestVM',
      status: 0,
      startTime: 1459829698 + s.shift,
      state: 'DONE',
      policyName: 'vmware2',
      parentJobId: 145,
      jobId: 146,
      policyType: 'VMWARE',
      jobType: 'BACKUP',
    });
    // The lookup asked for the job by what the script knows.
    const lookup = p.requests.find((x) => x.url.startsWith('/netbackup/admin/jobs?filter='))!;
    expect(new URL(lookup.url, 'https://x').searchParams.get('filter')).toBe("clientName eq 'DummyTestVM' and state eq 'DONE' and scheduleName eq 'full'");
  });

  it('parent_start_notify and parent_end_notify: the parent job (stream -1) ACTIVE, then DONE', async () => {
    const { ep, p, h, s, log } = await setup();
    const d = startDaemon(h.env);
    await d.waitFor(connected('ep1.test'));
    expect((await runScript(h, 'parent_start_notify', ['masterserver2.domain.com', 'vmware2', 'full', 'FULL', '0', '-1'], log)).code).toBe(0);
    await ep.waitForNotifications(1);
    s.steps[6]!.apply(p); // G: the parent is done
    expect((await runScript(h, 'parent_end_notify', ['masterserver2.domain.com', 'vmware2', 'full', 'FULL', '0', '-1'], log)).code).toBe(0);
    const got = await ep.waitForNotifications(2);
    expect(got.map((n) => `${n.data.jobId}:${n.data.state}:${n.data.parentJobId}`)).toEqual(['144:ACTIVE:144', '144:DONE:144']);
    expect(existsSync(log)).toBe(false);
  });

  it('with the poller on as well: a state is notified once, whoever sees it first', async () => {
    const { ep, p, h, s, log } = await setup({ 'api.poll.jobs': true });
    const d = startDaemon(h.env);
    await d.waitFor(connected('ep1.test'));
    await d.waitFor((l) => l.msg.startsWith('job polling starts'));
    s.steps[4]!.apply(p);
    expect((await runScript(h, 'backup_exit_notify', ['DummyTestVM', 'vmware2', 'full', 'FULL', '0', '0', '1'], log)).code).toBe(0);
    await ep.waitForNotifications(1);
    // Several polls later, and the script run again (NetBackup may): still one.
    expect((await runScript(h, 'backup_exit_notify', ['DummyTestVM', 'vmware2', 'full', 'FULL', '0', '0', '1'], log)).code).toBe(0);
    const polls = () => p.requests.filter((r) => r.url.includes('filter=lastUpdateTime')).length;
    const seen = polls();
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (polls() < seen + 3) return;
        clearInterval(t);
        resolve();
      }, 25);
    });
    // (The poller may also report 144 and 145 ACTIVE: they changed in the very second polling began.)
    expect(
      ep
        .notifications()
        .filter((n) => n.data.jobId === 146)
        .map((n) => `${n.data.jobId}:${n.data.state}`),
    ).toEqual(['146:DONE']);
  });

  it('stream -1 names the parent job it looked for; the README example (the scenario primary’s parent) is queued', async () => {
    const { p, h, s, log } = await setup();
    for (const step of s.steps.slice(3, 5)) step.apply(p); // D, E: the child jobs of DummyTestVM are DONE
    // DummyTestVM's DONE jobs are children (145, 146): with stream -1 the script means the parent, which is the primary's.
    expect((await runScript(h, 'backup_exit_notify', ['DummyTestVM', 'vmware2', 'full', 'FULL', '0', '-1', '1'], log)).code).toBe(0);
    expect(readFileSync(log, 'utf8')).toContain(
      'backup_exit_notify: no DONE parent job (stream -1: a job that is its own parent) of client DummyTestVM, policy vmware2 with status 0 on the primary',
    );
    for (const step of s.steps.slice(5, 7)) step.apply(p); // F, G: the parent job 144 is DONE
    // The README's example, as written there (nbwss notify --script …), against this scenario: the parent is queued.
    const r = await runCli(
      ['notify', '--script', 'backup_exit_notify', '--json', '--', 'masterserver2.domain.com', 'vmware2', 'full', 'FULL', '0', '-1', '1'],
      h.env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ outcome: 'queued', jobId: 144, state: 'DONE' });
  });

  it('a full outbox refuses the script’s notification: exit 0 for NetBackup, a line in its log and one in the audit log', async () => {
    const { p, h, s, log } = await setup({ 'notification.maxQueued': 1 });
    // No daemon: the parent's start fills the outbox of one.
    expect((await runScript(h, 'parent_start_notify', ['masterserver2.domain.com', 'vmware2', 'full', 'FULL', '0', '-1'], log)).code).toBe(0);
    expect(existsSync(log)).toBe(false);
    s.steps[4]!.apply(p);
    expect((await runScript(h, 'backup_exit_notify', ['DummyTestVM', 'vmware2', 'full', 'FULL', '0', '0', '1'], log)).code).toBe(0);
    expect(readFileSync(log, 'utf8')).toContain('the outbox is full (notification.maxQueued=1)');
    const history = JSON.parse((await runCli(['history', '--json'], h.env)).stdout) as { command: string; outcome: string; error?: { code: string } }[];
    expect(history.filter((e) => e.command === 'notify --script backup_exit_notify')).toMatchObject([{ outcome: 'error', error: { code: 'STORE' } }]);
  });

  it('never fails the backup: primary unreachable, bad arguments, a job that will retry — exit 0, a line in the log, nothing queued', async () => {
    const { h, log } = await setup();
    // done_trying 0: the job tries again; nothing to say, nothing to log.
    expect((await runScript(h, 'backup_exit_notify', ['DummyTestVM', 'vmware2', 'full', 'FULL', '58', '0', '0'], log)).code).toBe(0);
    expect(existsSync(log)).toBe(false);
    // Too few arguments: logged with what NetBackup passes.
    expect((await runScript(h, 'backup_exit_notify', ['DummyTestVM'], log)).code).toBe(0);
    expect(readFileSync(log, 'utf8')).toMatch(/backup_exit_notify DummyTestVM: nbwss exited 2: Error: backup_exit_notify: 7 arguments expected, 1 given/);
    // No such job on the primary (yet): exit 0, said in the log.
    expect((await runScript(h, 'backup_exit_notify', ['nosuch.client', 'vmware2', 'full', 'FULL', '0', '0', '1'], log)).code).toBe(0);
    expect(readFileSync(log, 'utf8')).toContain('nbwss exited 7: Error: backup_exit_notify: no DONE job of client nosuch.client');
    // The primary's web service is down.
    expect((await runCli(['config', 'set', 'api.baseUrl', 'https://127.0.0.1:1/netbackup'], h.env)).code).toBe(0);
    expect((await runScript(h, 'backup_exit_notify', ['DummyTestVM', 'vmware2', 'full', 'FULL', '0', '0', '1'], log)).code).toBe(0);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ backup_exit_notify DummyTestVM vmware2 full FULL 0 0 1: nbwss exited \d+: Error: /);
    expect(lines.join('\n')).not.toContain(KEY);
    expect(await pending(h)).toEqual([]);
  });

  it('arguments with line breaks and escapes cannot forge or colour a line of the log: one line per run, controls shown as ?', async () => {
    const { h, log } = await setup();
    const forged = 'nosuch.client\n2026-01-01T00:00:00Z backup_exit_notify forged: nbwss exited 0: ok\u001b[2J\r';
    expect((await runScript(h, 'backup_exit_notify', [forged, 'vmware2', 'full', 'FULL', '0', '0', '1'], log)).code).toBe(0);
    const text = readFileSync(log, 'utf8');
    expect(text.split('\n').filter(Boolean)).toHaveLength(1);
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
    expect(text).toContain('backup_exit_notify nosuch.client 2026-01-01T00:00:00Z backup_exit_notify forged: nbwss exited 0: ok?[2J? vmware2');
  });
});
