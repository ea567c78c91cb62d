import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCert, type Cert } from '../helpers/certs.js';
import { details, detailsFile, newHome, runCli, type Home, sharedStoreRun } from '../helpers/cli.js';
import { startTlsServer, type TlsServer } from '../helpers/servers.js';
import { fileTokens, storeRows } from '../helpers/store.js';
import { cleanupTempDirs } from '../helpers/tmp.js';

let cert: Cert;
let server: TlsServer;
let home: Home;

const ENTRIES = [
  details({ hostName: 'b-p2.test', groupId: 'sg1', priority: 2, token: 'tb' }),
  details({ hostName: 'a-p1.test', groupId: 'sg1', priority: 1, token: 'ta' }),
  details({ hostName: 'c-g2.test', groupId: 'sg2', priority: '0', token: 'tc' }),
  details({ hostName: 'd-q.test', groupId: 'sg0', priority: 5, token: 'td' }),
];

beforeAll(async () => {
  cert = makeCert();
  server = await startTlsServer(cert);
  home = newHome();
  const r = await runCli(
    ['add', '--file', detailsFile(ENTRIES.map((e) => ({ ...e, url: server.url(e.hostName === 'd-q.test' ? '/x?key=SECRET123' : '/nbwss') }))), '--yes'],
    home.env,
  );
  expect(r.code).toBe(0);
});
afterAll(async () => {
  await server.close();
  cleanupTempDirs();
});

const cli = (...args: string[]) => runCli(args, home.env);

describe('nbwss list', () => {
  it("prints the dialog's columns, sorted by group then priority, plain when piped", async () => {
    const r = await cli('list');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Host Name\s+URL\s+Group ID\s+Priority\s+State\s+Connection State$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['d-q.test', 'a-p1.test', 'b-p2.test', 'c-g2.test']);
    expect(r.stdout).not.toMatch(/[│┌─]|\u001b\[/);
  });

  it("masks a URL's query string", async () => {
    const r = await cli('list');
    expect(r.stdout).toContain(`${server.url('/x')}?<redacted>`);
    expect(r.stdout).not.toContain('SECRET123');
  });

  it('--json: stable field names, priority a number, fingerprint as openssl prints it', async () => {
    const r = await cli('list', '--json');
    expect(r.stderr).toBe('');
    const rows = JSON.parse(r.stdout);
    expect(rows.map((x: { hostName: string }) => x.hostName)).toEqual(['d-q.test', 'a-p1.test', 'b-p2.test', 'c-g2.test']);
    expect(rows[2]).toEqual({
      hostName: 'b-p2.test',
      url: server.url(),
      groupId: 'sg1',
      priority: 2,
      state: 'ACTIVATED',
      connectionState: 'DISCONNECTED',
      pinType: 'cert',
      fingerprint: cert.fingerprint,
      notAfter: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(rows[3].priority).toBe(0);
    expect(rows[0].fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  it('--group and --state filter', async () => {
    const r = await cli('list', '--json', '--group', 'sg1');
    expect(JSON.parse(r.stdout).map((x: { hostName: string }) => x.hostName)).toEqual(['a-p1.test', 'b-p2.test']);
    const none = await cli('list', '--state', 'deactivated');
    expect(none.code).toBe(0);
    expect(none.stdout).toBe('');
    expect(none.stderr).toContain('No saved WebSocket server matches.');
    expect((await cli('list', '--state', 'deactivated', '--json')).stdout).toBe('[]\n');
  });

  it('--state with another value is a usage error', async () => {
    const r = await cli('list', '--state', 'on');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Allowed choices are activated, deactivated');
  });

  // SQLite in NBWSS_HOME only (not in the PostgreSQL run of this suite: no such files, no keychain, the database exists).
  it.skipIf(sharedStoreRun)('no store yet: says how to add one, on stderr, and creates nothing (list and show only read)', async () => {
    const h = newHome();
    const r = await runCli(['list'], h.env);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('nbwss add --file');
    expect((await runCli(['list', '--json'], h.env)).stdout).toBe('[]\n');
    expect((await runCli(['show', 'x.test'], h.env)).code).toBe(7);
    expect(existsSync(h.dir)).toBe(false);
  });
});

describe('nbwss show', () => {
  it('shows the entry and the pinned certificate, the token masked', async () => {
    const r = await cli('show', 'A-P1.TEST');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Host Name:        a-p1.test');
    expect(r.stdout).toContain('Token:            ******** (use --show-token to view)');
    expect(r.stdout).toContain(`Pinned:           the certificate\nPin SHA-256:      ${cert.fingerprint}\n`);
    expect(r.stdout).toContain('Subject:          CN=localhost');
    expect(r.stdout).toContain('SANs:             DNS:localhost, IP Address:127.0.0.1');
    expect(r.stdout).not.toContain('ta\n');
  });

  it("--show-token prints the token (the dialog's Token: View) and the full URL", async () => {
    const r = await cli('show', 'd-q.test', '--show-token', '--json');
    const j = JSON.parse(r.stdout);
    expect(j.token).toBe('td');
    expect(j.url).toBe(server.url('/x?key=SECRET123'));
    expect(j.certificate).toEqual({
      subject: 'CN=localhost',
      issuer: 'CN=localhost',
      sans: expect.any(Array),
      notBefore: expect.any(String),
      notAfter: expect.any(String),
    });
    const masked = JSON.parse((await cli('show', 'd-q.test', '--json')).stdout);
    expect(masked.token).toBeUndefined();
    expect(masked.url).toBe(`${server.url('/x')}?<redacted>`);
  });

  it('an unknown host: no entity was found, exit 7', async () => {
    for (const args of [
      ['show', 'nope.test'],
      ['show', 'nope.test', '--show-token'],
    ]) {
      const r = await cli(...args);
      expect(r.code).toBe(7);
      expect(r.stderr).toContain('Error: no entity was found');
      expect(r.stderr).toContain('nbwss list');
    }
  });
});

describe('nbwss activate / deactivate', () => {
  it('is idempotent and says what changed', async () => {
    let r = await cli('deactivate', 'b-p2.test');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('b-p2.test is now DEACTIVATED.');
    r = await cli('deactivate', 'B-P2.test');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('b-p2.test was already DEACTIVATED.');
    expect(storeRows(home).find((x) => x.host_name === 'b-p2.test')!.state).toBe('DEACTIVATED');
    r = await cli('activate', 'b-p2.test', 'a-p1.test');
    expect(r.stderr).toContain('b-p2.test is now ACTIVATED.');
    expect(r.stderr).toContain('a-p1.test was already ACTIVATED.');
  });

  it('an unknown host: exit 7 and no host changes', async () => {
    const r = await cli('deactivate', 'a-p1.test', 'nope.test');
    expect(r.code).toBe(7);
    expect(r.stderr).toContain('Error: no entity was found');
    expect(storeRows(home).find((x) => x.host_name === 'a-p1.test')!.state).toBe('ACTIVATED');
  });
});

describe('nbwss delete', () => {
  it('without a terminal it needs --yes, and deletes nothing', async () => {
    const r = await cli('delete', 'c-g2.test');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Pass --yes to delete without asking.');
    expect(storeRows(home).map((x) => x.host_name)).toContain('c-g2.test');
  });

  it('an unknown host: exit 7 and nothing deleted', async () => {
    const r = await cli('delete', 'c-g2.test', 'nope.test', '--yes');
    expect(r.code).toBe(7);
    expect(r.stderr).toContain('Error: no entity was found');
    expect(storeRows(home).map((x) => x.host_name)).toContain('c-g2.test');
  });

  it('removes entry, pin and token', async () => {
    const r = await cli('delete', 'C-G2.test', '--yes');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Deleted c-g2.test.');
    expect(storeRows(home).map((x) => x.host_name)).not.toContain('c-g2.test');
    expect(fileTokens(home)['c-g2.test']).toBeUndefined();
    expect(fileTokens(home)['a-p1.test']).toBe('ta');
    expect((await cli('show', 'c-g2.test')).code).toBe(7);
  });
});

describe('the command line', () => {
  it('an unknown command exits 2 with a suggestion', async () => {
    const r = await cli('lsit');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'lsit'");
    expect(r.stderr).toContain('Did you mean list?');
  });

  it('an unknown flag exits 2 with a suggestion', async () => {
    const r = await cli('list', '--jsn');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--jsn'");
    expect(r.stderr).toContain('Did you mean --json?');
  });

  it("--help lists the exit codes; every command's help has an example", async () => {
    const r = await cli('--help');
    expect(r.code).toBe(0);
    for (const line of [
      '3    invalid input (endpoint details, notifications)',
      '5    certificate not accepted or did not match',
      '8    store or keychain failure, or an outbox full (notify)',
      '130  cancelled',
    ])
      expect(r.stdout).toContain(line);
    for (const c of [
      'add',
      'list',
      'show',
      'delete',
      'activate',
      'deactivate',
      'validate',
      'repin',
      'check',
      'token',
      'token set',
      'config',
      'config list',
      'config get',
      'config set',
      'config unset',
      'history',
      'doctor',
      'completion',
    ]) {
      const h = await cli(...c.split(' '), '--help');
      expect(h.code, c).toBe(0);
      expect(h.stdout, c).toMatch(/Examples?:\n {2}nbwss /);
    }
  });

  it('messages are red on request (FORCE_COLOR) and plain under NO_COLOR or when piped', async () => {
    const red = await runCli(['show', 'nope.test'], { ...home.env, FORCE_COLOR: '1' });
    expect(red.stderr).toContain('\u001b[31mError: no entity was found');
    const plain = await runCli(['show', 'nope.test'], { ...home.env, FORCE_COLOR: '1', NO_COLOR: '1' });
    expect(plain.stderr).not.toContain('\u001b[');
    expect((await cli('show', 'nope.test')).stderr).not.toContain('\u001b[');
  });

  it('--home and --secret-store may come after the command', async () => {
    const { NBWSS_HOME, NBWSS_SECRET_STORE, ...rest } = home.env;
    const r = await runCli(['list', '--json', '--home', NBWSS_HOME!, '--secret-store', NBWSS_SECRET_STORE!], rest);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).length).toBeGreaterThan(0);
  });

  it('a store that keeps its tokens in one secret store refuses the other (exit 8), naming both', async () => {
    const r = await runCli(['show', 'a-p1.test', '--show-token'], { ...home.env, NBWSS_SECRET_STORE: 'keychain' });
    expect(r.code).toBe(8);
    expect(r.stderr).toContain('This store keeps its tokens in the file secret store, but NBWSS_SECRET_STORE asks for keychain');
  });

  it('NBWSS_SECRET_STORE with another value is a usage error', async () => {
    const r = await runCli(['add', '--file', detailsFile(details({ url: server.url() })), '--yes'], { ...newHome().env, NBWSS_SECRET_STORE: 'vault' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('NBWSS_SECRET_STORE must be keychain or file, not "vault"');
  });
});

describe('no OS keychain reachable', () => {
  // SQLite in NBWSS_HOME only (not in the PostgreSQL run of this suite: no such files, no keychain, the database exists).
  it.skipIf(sharedStoreRun)('fails closed: exit 8, names --secret-store file and NBWSS_SECRET_STORE=file, writes nothing', async () => {
    const h = newHome({ NBWSS_SECRET_STORE: 'keychain' }); // and no session bus in the environment
    const r = await runCli(['add', '--file', detailsFile(details({ url: server.url() })), '--yes'], h.env);
    expect(r.code).toBe(8);
    expect(r.stderr).toContain('Error: No OS keychain is reachable');
    expect(r.stderr).toContain('run the same command again with --secret-store file — this store then remembers it');
    expect(r.stderr).toContain('NBWSS_SECRET_STORE=file');
    expect(storeRows(h)).toEqual([]);
  });

  // SQLite in NBWSS_HOME only (as above).
  it.skipIf(sharedStoreRun)('the fix is one step that is remembered: add once with --secret-store file, and later commands need no flag', async () => {
    const h = newHome();
    delete h.env.NBWSS_SECRET_STORE; // a headless server: no keychain, nothing chosen
    expect((await runCli(['add', '--file', detailsFile(details({ url: server.url() })), '--yes'], h.env)).code).toBe(8);
    const once = await runCli(['add', '--file', detailsFile(details({ url: server.url() })), '--yes', '--secret-store', 'file'], h.env);
    expect(once.code, once.stderr).toBe(0);
    // No flag, no variable: the store's recorded choice is used.
    const token = await runCli(['token', 'set', 'localhost'], h.env, 'NEW-TOKEN\n');
    expect(token.code, token.stderr).toBe(0);
    expect(fileTokens(h)).toEqual({ localhost: 'NEW-TOKEN' });
  });

  // SQLite in NBWSS_HOME only (not in the PostgreSQL run of this suite: no such files, no keychain, the database exists).
  it.skipIf(sharedStoreRun)('is the default when nothing is chosen: keychain, never a silent fallback', async () => {
    const h = newHome();
    delete h.env.NBWSS_SECRET_STORE;
    const r = await runCli(['add', '--file', detailsFile(details({ url: server.url() })), '--yes'], h.env);
    expect(r.code).toBe(8);
    expect(r.stderr).toContain('No OS keychain is reachable');
    expect(storeRows(h)).toEqual([]);
  });
});

describe('output to a reader that goes away', () => {
  it('nbwss list | head: exits 0 quietly (no EPIPE trace)', async () => {
    const { spawnCli } = await import('../helpers/cli.js');
    // @ts-expect-error: a plain .mjs helper shared with the benchmarks
    const { seedStore } = await import('../../bench/seed.mjs');
    const big = newHome();
    await seedStore(big.dir, 2000, big.env); // far more than a pipe buffer holds
    const child = spawnCli(['list', '--json'], big.env);
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    child.stdout!.once('data', () => child.stdout!.destroy());
    child.stdin!.end();
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect([0, null]).toContain(code);
    expect(stderr).toBe('');
  });
});
