import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReferenceEndpoint, type ReferenceEndpoint } from '../../src/reference-endpoint/index.js';
import { sideBySide } from '../../src/cli/output/side-by-side.js';
import { details, detailsFile, newHome, runCli } from '../helpers/cli.js';
import { runInPty } from '../helpers/pty.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

// What a new administrator meets in the first hour, beyond the main job.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let ep: ReferenceEndpoint;
beforeAll(async () => {
  ep = await startReferenceEndpoint({ token: 'first-hour' });
});
afterAll(async () => {
  await ep.close();
  cleanupTempDirs();
});

const addReference = async (env: NodeJS.ProcessEnv, hostName = 'ref.test') => {
  const r = await runCli(['add', '--file', detailsFile(ep.details({ hostName })), '--yes'], env);
  expect(r.code, r.stderr).toBe(0);
};

describe('the reference endpoint', () => {
  it('presents a certificate that nbwss check and doctor call OK (not EXPIRING) right after the demo', async () => {
    const h = newHome();
    await addReference(h.env);
    const check = await runCli(['check', '--json'], h.env);
    expect(check.code, check.stderr).toBe(0);
    expect(JSON.parse(check.stdout)[0]).toMatchObject({ status: 'OK' });
    expect(JSON.parse(check.stdout)[0].daysLeft).toBeGreaterThanOrEqual(85);
  });

  it('npm run endpoint writes details with the host name, group and priority asked for', async () => {
    const file = join(tempDir('nbwss-ep-'), 'endpoint.json');
    const child = spawn(
      process.execPath,
      [join(ROOT, 'dist/lab/endpoint.js'), '--token', 'T1', '--details', file, '--host-name', 'cloudhost7.nebula.com', '--group', 'prod', '--priority', '3'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (d) => String(d).includes('listening') && resolve());
      child.on('close', (code) => reject(new Error(`exited ${code}`)));
    });
    child.kill('SIGTERM');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({
      token: 'T1',
      hostName: 'cloudhost7.nebula.com',
      groupId: 'prod',
      priority: 3,
      url: expect.stringMatching(/^wss:\/\/127\.0\.0\.1:\d+\/nbwss$/),
    });
    const bad = spawnSync(process.execPath, [join(ROOT, 'dist/lab/endpoint.js'), '--token', 'T1', '--priority', 'high'], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--priority must be a whole number');
  });
});

describe('repin when nothing changed', () => {
  it('is success in a script: exit 0, said on stderr, --json says changed: false, the pin untouched', async () => {
    const h = newHome();
    await addReference(h.env);
    const before = JSON.parse((await runCli(['show', 'ref.test', '--json'], h.env)).stdout);
    const r = await runCli(['repin', 'ref.test', '--json'], h.env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('still presents the pinned certificate');
    expect(r.stderr).toContain('nothing to do');
    expect(JSON.parse(r.stdout)).toMatchObject({
      hostName: 'ref.test',
      changed: false,
      before: { fingerprint: ep.fingerprint },
      after: { fingerprint: ep.fingerprint },
    });
    const after = JSON.parse((await runCli(['show', 'ref.test', '--json'], h.env)).stdout);
    expect(after.updatedAt).toBe(before.updatedAt);
  });

  it('fits the side-by-side to the terminal, and stacks the two certificates when it is narrow', () => {
    const rows: [string, string, string][] = [['SHA-256', 'A'.repeat(95), 'B'.repeat(95)]];
    const wide = sideBySide(['pinned now', 'presented now'], rows, 250).split('\n');
    expect(wide).toHaveLength(2);
    expect(wide[1]).toBe(`  SHA-256  ${'A'.repeat(95)}  ${'B'.repeat(95)}`);
    const narrow = sideBySide(['pinned now', 'presented now'], rows, 120).split('\n');
    expect(narrow).toEqual(['  pinned now', `    SHA-256  ${'A'.repeat(95)}`, '  presented now', `    SHA-256  ${'B'.repeat(95)}`]);
    for (const l of narrow) expect(l.length).toBeLessThanOrEqual(120);
  });
});

describe('usage', () => {
  it('token set HOST TOKEN: says the token is read from standard input, never echoes it, audits no secret', async () => {
    const h = newHome();
    await addReference(h.env);
    const r = await runCli(['token', 'set', 'ref.test', 'S3cr3t-On-Argv'], h.env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the token is read from standard input, never from the command line');
    expect(r.stderr).toContain('nbwss token set ref.test < token.txt');
    expect(r.stderr).not.toContain('S3cr3t-On-Argv');
    expect(readFileSync(join(h.dir, 'audit.log'), 'utf8')).not.toContain('S3cr3t-On-Argv');
  });

  it.each([['token'], ['config']])('nbwss %s with no sub-command prints its help and exits 2', async (c) => {
    const r = await runCli([c], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`Usage: nbwss ${c} [options] [command]`);
    expect(r.stdout).toBe('');
  });

  it('nbwss help is still success', async () => {
    const r = await runCli(['help'], {});
    expect(r.code).toBe(0);
  });

  it("a sub-command's --help lists the global options that apply to it", async () => {
    const r = await runCli(['list', '--help'], {});
    expect(r.stdout).toContain('Global Options:');
    expect(r.stdout).toMatch(/--home <dir>/);
    expect(r.stdout).toMatch(/--secret-store <kind>/);
  });

  it("usage errors look like nbwss's other errors: Error: …, then what to do", async () => {
    const r = await runCli(['list', '--bogus'], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("Error: unknown option '--bogus'\nRun nbwss list --help for usage.\n");
    const typo = await runCli(['lsit'], {});
    expect(typo.stderr).toMatch(/^Error: unknown command 'lsit'\n\(Did you mean list\?\)\nRun nbwss --help for usage\.\n$/);
  });

  it('nbwss daemon --help says it stays in the foreground and how to run it in the background', async () => {
    const r = await runCli(['daemon', '--help'], {});
    expect(r.stdout).toContain('--log-stderr');
    expect(r.stdout).toContain('always stays in the foreground');
    expect(r.stdout).toContain('systemd-run --user');
    expect(r.stdout).toContain('nohup nbwss daemon');
  });
});

describe('certificates in words', () => {
  it('Trusted: "no — self-signed", the raw code only in --json and under NBWSS_DEBUG=1', async () => {
    const h = newHome();
    const file = detailsFile(ep.details({ hostName: 'ref.test' }));
    // At a terminal, as an administrator sees it.
    const plain = await runInPty(['validate', '--file', file], { ...h.env, NO_COLOR: '1' }).done;
    expect(plain.code, plain.output).toBe(0);
    expect(plain.output).toMatch(/Trusted: +no — self-signed\r?\n/);
    expect(plain.output).not.toContain('DEPTH_ZERO_SELF_SIGNED_CERT');
    const debug = await runInPty(['validate', '--file', file], { ...h.env, NO_COLOR: '1', NBWSS_DEBUG: '1' }).done;
    expect(debug.output).toContain('no — self-signed (DEPTH_ZERO_SELF_SIGNED_CERT)');
    const json = await runCli(['validate', '--file', file, '--json'], h.env);
    expect(JSON.parse(json.stdout).certificate.trustError).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
  });
});

describe('history', () => {
  it('names the host of a failed add (Target)', async () => {
    const h = newHome();
    await addReference(h.env);
    const again = await runCli(['add', '--file', detailsFile(ep.details({ hostName: 'ref.test' })), '--yes'], h.env);
    expect(again.code).toBe(6);
    const entries = JSON.parse((await runCli(['history', '--json'], h.env)).stdout);
    expect(entries.at(-1)).toMatchObject({ command: 'add', hosts: ['ref.test'], outcome: 'error', error: { code: 'EXISTS' } });
    const table = await runCli(['history', '--host', 'ref.test'], h.env);
    expect(table.stdout.trim().split('\n')).toHaveLength(3); // head + the two adds
  });
});

describe('a failed keychain add creates nothing', () => {
  it('no store directory, no nbwss.db, no audit.log; the reason in a sentence, the raw answer under NBWSS_DEBUG=1', async () => {
    const h = newHome({ NBWSS_SECRET_STORE: 'keychain' }); // and no session bus
    const file = detailsFile(details({ url: ep.url }));
    const r = await runCli(['add', '--file', file, '--yes'], h.env);
    expect(r.code).toBe(8);
    expect(r.stderr).toMatch(/(^|\n)Error: No OS keychain is reachable: [A-Za-z ,-]+\n/);
    expect(r.stderr).not.toMatch(/autolaunch|DBus error/i);
    expect(existsSync(h.dir)).toBe(false);
    const debug = await runCli(['add', '--file', file, '--yes'], { ...h.env, NBWSS_DEBUG: '1' });
    expect(debug.stderr).toMatch(/\nCause: /);
    expect(existsSync(h.dir)).toBe(false);
  });
});

describe('contrib/nbwss.service', () => {
  const hasAnalyze = spawnSync('sh', ['-c', 'command -v systemd-analyze']).status === 0;
  if (!hasAnalyze && process.env.CI === 'true') throw new Error('systemd-analyze is not installed (CI=true: apt-get install systemd)');

  it.skipIf(!hasAnalyze)('passes systemd-analyze verify', () => {
    const r = spawnSync('systemd-analyze', ['verify', join(ROOT, 'contrib/nbwss.service')], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('starts where /etc/nbwss does not exist yet: every path outside the state directory is optional (-)', () => {
    const unit = readFileSync(join(ROOT, 'contrib/nbwss.service'), 'utf8');
    expect(unit).toMatch(/^StateDirectory=nbwss$/m);
    const paths = [...unit.matchAll(/^ReadWritePaths=(.*)$/gm)].flatMap((m) => m[1]!.split(/\s+/));
    expect(paths).toContain('-/etc/nbwss');
    expect(paths.filter((p) => !p.startsWith('-') && p !== '/var/lib/nbwss')).toEqual([]);
    expect(unit).toMatch(/^ExecStart=.* daemon --log-stderr$/m);
  });
});
