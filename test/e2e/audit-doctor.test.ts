import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileSecretStore } from '../../src/core/secrets/file.js';
import { details, detailsFile, newHome, runCli } from '../helpers/cli.js';
import { useTlsEndpoint } from '../helpers/fixtures.js';

const ep = useTlsEndpoint();

const audit = (dir: string) =>
  readFileSync(join(dir, 'audit.log'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

describe('the audit log', () => {
  it('one JSON line per change, with time, OS user, command, hosts, outcome; never a token or a query string', async () => {
    const h = newHome();
    await runCli(['add', '--file', detailsFile(details({ url: `${ep.server.url()}?key=QUERY-SECRET`, token: 'AUDIT-TOKEN' })), '--yes'], h.env);
    const again = await runCli(['add', '--file', detailsFile(details({ url: ep.server.url(), token: 'AUDIT-TOKEN' })), '--yes'], h.env); // exists: exit 6
    expect(again.stderr).toContain('add again with --replace');
    expect((await runCli(['add', '--replace', '--file', detailsFile(details({ url: ep.server.url(), token: 'AUDIT-TOKEN' })), '--yes'], h.env)).code).toBe(0);
    // A usage error (a mistyped fingerprint) changed nothing and is no change that failed: not in the audit log.
    expect((await runCli(['repin', 'localhost', '--fingerprint', 'not-a-fingerprint'], h.env)).code).toBe(2);
    await runCli(['deactivate', 'localhost'], h.env);
    await runCli(['activate', 'LOCALHOST'], h.env);
    await runCli(['token', 'set', 'localhost'], h.env, 'AUDIT-TOKEN-2\n');
    await runCli(['repin', 'localhost', '--yes'], h.env);
    await runCli(['config', 'set', 'connectionInfo.period', '30'], h.env);
    await runCli(['config', 'unset', 'connectionInfo.period'], h.env);
    await runCli(['delete', 'nope.test', '--yes'], h.env);
    await runCli(['delete', 'localhost', '--yes'], h.env);
    await runCli(['list'], h.env); // not a change
    const lines = audit(h.dir);
    expect(lines.map((l) => [l.command, l.hosts, l.outcome, l.error?.code])).toEqual([
      ['add', ['localhost'], 'ok', undefined],
      ['add', ['localhost'], 'error', 'EXISTS'],
      ['add --replace', ['localhost'], 'ok', undefined],
      ['deactivate', ['localhost'], 'ok', undefined],
      ['activate', ['localhost'], 'ok', undefined],
      ['token set', ['localhost'], 'ok', undefined],
      ['repin', ['localhost'], 'ok', undefined],
      ['config set', [], 'ok', undefined],
      ['config unset', [], 'ok', undefined],
      ['delete', ['nope.test'], 'error', 'NOT_FOUND'],
      ['delete', ['localhost'], 'ok', undefined],
    ]);
    expect(lines[7].detail).toBe('connectionInfo.period=30');
    expect(lines[0]).toMatchObject({ user: expect.any(String), time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    const raw = readFileSync(join(h.dir, 'audit.log'), 'utf8');
    expect(raw).not.toContain('AUDIT-TOKEN');
    expect(raw).not.toContain('QUERY-SECRET');
    expect((statSync(join(h.dir, 'audit.log')).mode & 0o777).toString(8)).toBe('600');
  });

  it('nbwss history shows it, filtered by host, as a table or JSON', async () => {
    const h = newHome();
    await runCli(['add', '--file', detailsFile(details({ url: ep.server.url(), hostName: 'one.test' })), '--yes'], h.env);
    await runCli(['add', '--file', detailsFile(details({ url: ep.server.url(), hostName: 'two.test' })), '--yes'], h.env);
    await runCli(['deactivate', 'two.test'], h.env);
    const all = JSON.parse((await runCli(['history', '--json'], h.env)).stdout);
    expect(all).toHaveLength(3);
    const two = JSON.parse((await runCli(['history', '--json', '--host', 'TWO.test'], h.env)).stdout);
    expect(two.map((e: { command: string }) => e.command)).toEqual(['add', 'deactivate']);
    const text = await runCli(['history', '-n', '1'], h.env);
    expect(text.stdout).toMatch(/deactivate\s+two\.test\s+ok/);
    expect(text.stdout.trim().split('\n')).toHaveLength(2);
  });
});

describe('nbwss doctor', () => {
  it('a healthy store: every check ok, exit 0', async () => {
    const h = newHome();
    await runCli(['add', '--file', detailsFile(details({ url: ep.server.url() })), '--yes'], h.env);
    const r = await runCli(['doctor', '--json'], h.env);
    expect(r.code, r.stdout).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.ok).toBe(true);
    expect(j.checks.map((c: { name: string; status: string }) => [c.name, c.status])).toEqual([
      ['ownership', 'ok'],
      ['permissions', 'ok'],
      ['integrity', 'ok'],
      ['schema', 'ok'],
      ['host names', 'ok'],
      ['properties', 'ok'],
      ['secret store', 'ok'],
      ['tokens', 'ok'],
      ['orphan tokens', 'ok'],
      ['pinned certificates', 'ok'],
    ]);
  });

  it('finds loose permissions, an orphan token, an entry without its token, a bad property; --fix mends what it can', async () => {
    const h = newHome();
    await runCli(['add', '--file', detailsFile(details({ url: ep.server.url(), hostName: 'a.test' })), '--yes'], h.env);
    await runCli(['add', '--file', detailsFile(details({ url: ep.server.url(), hostName: 'b.test' })), '--yes'], h.env);
    chmodSync(h.dir, 0o755);
    chmodSync(join(h.dir, 'nbwss.db'), 0o644);
    const secrets = new FileSecretStore(h.dir, h.keyFile);
    secrets.set('orphan.test', 'x');
    secrets.delete('b.test');
    writeFileSync(join(h.dir, 'nbwss.properties'), 'connectionInfo.period=never\n');
    const r = await runCli(['doctor'], h.env);
    expect(r.code).toBe(8);
    expect(r.stdout).toMatch(/PROBLEM {2}permissions: readable by others: .*store \(755\)/);
    expect(r.stdout).toContain('PROBLEM  tokens: no token for: b.test');
    expect(r.stdout).toContain('nbwss token set b.test < token.txt');
    expect(r.stdout).toContain('PROBLEM  orphan tokens: tokens without an entry: orphan.test');
    expect(r.stdout).toContain('PROBLEM  properties:');
    expect(r.stderr).toContain('Some can be mended with: nbwss doctor --fix');
    // A diagnosis changes nothing: the modes are as they were.
    expect((statSync(h.dir).mode & 0o777).toString(8)).toBe('755');
    expect((statSync(join(h.dir, 'nbwss.db')).mode & 0o777).toString(8)).toBe('644');
    // Without a terminal --fix removes orphans only with --yes.
    const noYes = await runCli(['doctor', '--fix'], h.env);
    expect(noYes.stdout).toContain('fixed: tightened');
    expect(noYes.stdout).toContain('PROBLEM  orphan tokens');
    expect((statSync(h.dir).mode & 0o777).toString(8)).toBe('700');
    expect((statSync(join(h.dir, 'nbwss.db')).mode & 0o777).toString(8)).toBe('600');
    const fixed = await runCli(['doctor', '--fix', '--yes', '--json'], h.env);
    const checks = Object.fromEntries(JSON.parse(fixed.stdout).checks.map((c: { name: string }) => [c.name, c]));
    expect(checks['orphan tokens']).toMatchObject({ status: 'ok', fixed: 'removed the tokens of orphan.test' });
    expect(secrets.accounts().sort()).toEqual(['a.test']);
    expect(fixed.code).toBe(8); // the missing token and the bad property remain
    // The audit log names the mending run and what it mended; the diagnosis is no change.
    expect(
      audit(h.dir)
        .slice(2)
        .map((l) => [l.command, l.detail?.slice(0, 9)]),
    ).toEqual([
      ['doctor --fix', 'tightened'],
      ['doctor --fix', 'removed t'],
    ]);
  });

  it('no store yet: says so, exit 0', async () => {
    const r = await runCli(['doctor'], newHome().env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('no store at');
  });

  it('a secret store that does not answer is a problem', async () => {
    const h = newHome();
    await runCli(['add', '--file', detailsFile(details({ url: ep.server.url() })), '--yes'], h.env);
    writeFileSync(h.keyFile, Buffer.alloc(32, 1)); // the wrong key
    const r = await runCli(['doctor', '--json'], h.env);
    expect(r.code).toBe(8);
    const checks = JSON.parse(r.stdout).checks;
    expect(checks).toContainEqual(
      expect.objectContaining({ name: 'secret store', status: 'problem', detail: expect.stringContaining('cannot be decrypted with the key in') }),
    );
  });
});

describe('a damaged entry', () => {
  it('show says the pinned certificate cannot be read and how to fix it (exit 8), doctor names it', async () => {
    const Database = (await import('better-sqlite3')).default;
    const h = newHome();
    await runCli(['add', '--file', detailsFile(details({ url: ep.server.url() })), '--yes'], h.env);
    const db = new Database(join(h.dir, 'nbwss.db'));
    db.prepare("UPDATE pinned_certificates SET cert_pem = 'garbage'").run();
    db.close();
    const r = await runCli(['show', 'localhost'], h.env);
    expect(r.code).toBe(8);
    expect(r.stderr).toContain('The pinned certificate of localhost cannot be read from the store');
    expect(r.stderr).toContain('nbwss repin localhost');
    const d = await runCli(['doctor'], h.env);
    expect(d.stdout).toContain('PROBLEM  pinned certificates: cannot be parsed: localhost');
  });
});
