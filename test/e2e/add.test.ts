import { statSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCert, type Cert } from '../helpers/certs.js';
import { details, detailsFile, hasStackTrace, newHome, runCli, type Home, sharedStoreRun } from '../helpers/cli.js';
import { closedPort, startPlainServer, startTlsServer, type TlsServer } from '../helpers/servers.js';
import { fileTokens, storeBytes, storeRows } from '../helpers/store.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import { join } from 'node:path';

let cert: Cert;
let other: Cert;
let server: TlsServer;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  cert = makeCert();
  other = makeCert();
  server = await startTlsServer(cert);
  closers.push(() => server.close());
});
afterAll(async () => {
  await Promise.all(closers.map((c) => c()));
  cleanupTempDirs();
});

const TOKEN = 'tok-Secret-123';
const add = (home: Home, d: unknown, ...flags: string[]) => runCli(['add', '--file', detailsFile(d), ...flags], home.env);
const nothingWritten = (home: Home) => {
  expect(storeRows(home)).toEqual([]);
  expect(fileTokens(home)).toEqual({});
};

describe('nbwss add --file', () => {
  it('--yes saves the entry, pins the certificate, keeps the token out of the database and out of the output', async () => {
    const home = newHome();
    const r = await add(home, details({ url: server.url() }), '--yes');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`Warning: trusting the certificate presented by localhost (SHA-256 ${cert.fingerprint}) without asking, because of --yes`);
    expect(r.stderr).toContain('Added localhost (group sg1, priority 1, ACTIVATED); token saved in the file secret store.');
    expect(r.stderr).toContain(`SHA-256:    ${cert.fingerprint}`);
    expect(r.stderr).not.toContain(TOKEN);
    expect(r.stderr).not.toContain('Fetching'); // no spinner when stderr is not a terminal
    expect(r.stderr).not.toContain('\u001b['); // and no colour
    expect(storeRows(home)).toEqual([{ host_name: 'localhost', state: 'ACTIVATED', fingerprint: cert.fingerprint }]);
    expect(fileTokens(home)).toEqual({ localhost: TOKEN });
    expect(storeBytes(home).includes(Buffer.from(TOKEN))).toBe(false);
  });

  // SQLite in NBWSS_HOME only (not in the PostgreSQL run of this suite: no such files, no keychain, the database exists).
  it.skipIf(sharedStoreRun)('makes the store directory 0700 and its files 0600', async () => {
    const home = newHome();
    expect((await add(home, details({ url: server.url() }), '--yes')).code).toBe(0);
    const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);
    expect(mode(home.dir)).toBe('700');
    for (const f of ['nbwss.db', 'secrets.enc', 'secrets.lock']) expect(mode(join(home.dir, f)), f).toBe('600');
    expect(mode(home.keyFile)).toBe('600');
  });

  it.each([
    ['as openssl prints it', (fp: string) => fp],
    ['lowercase without colons', (fp: string) => fp.replace(/:/g, '').toLowerCase()],
    ['as ssh prints it', (fp: string) => `SHA256:${Buffer.from(fp.replace(/:/g, ''), 'hex').toString('base64').replace(/=+$/, '')}`],
  ])('--fingerprint %s accepts that certificate', async (_name, form) => {
    const home = newHome();
    const r = await add(home, details({ url: server.url() }), '--fingerprint', form(cert.fingerprint));
    expect(r.code).toBe(0);
    expect(storeRows(home)).toHaveLength(1);
  });

  it("--fingerprint that does not match: the guide's mismatch message, exit 5, nothing written", async () => {
    const home = newHome();
    const r = await add(home, details({ url: server.url() }), '--fingerprint', other.fingerprint);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('Error: The certificate did not match with the one accepted by the user, please verify the certificate');
    expect(r.stderr).toContain(`localhost presents ${cert.fingerprint}`);
    nothingWritten(home);
  });

  it('--fingerprint that is not a fingerprint: usage error, exit 2', async () => {
    const home = newHome();
    const r = await add(home, details({ url: server.url() }), '--fingerprint', 'abc');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--fingerprint abc is not a SHA-256 fingerprint');
  });

  it('--fingerprint and --yes together: usage error, exit 2', async () => {
    const r = await add(newHome(), details({ url: server.url() }), '--yes', '--fingerprint', cert.fingerprint);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot be used with/);
  });

  it('without a terminal and without --yes or --fingerprint: refuses, exit 5, nothing written, says which flag', async () => {
    const home = newHome();
    const r = await add(home, details({ url: server.url() }));
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('the certificate of localhost must be accepted, and there is no terminal to ask on');
    expect(r.stderr).toContain(`pass --fingerprint ${cert.fingerprint}`);
    nothingWritten(home);
  });

  it("a certificate that changes between acceptance and save: the guide's mismatch message, exit 5, nothing written", async () => {
    const swapping = await startTlsServer(cert);
    closers.push(() => swapping.close());
    swapping.onConnection = (n) => n === 1 && swapping.setCert(other);
    const home = newHome();
    const r = await add(home, details({ url: swapping.url() }), '--yes');
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('Error: The certificate did not match with the one accepted by the user, please verify the certificate');
    expect(r.stderr).toContain(`changed after it was accepted (now ${other.fingerprint})`);
    expect(swapping.connections).toBe(2);
    nothingWritten(home);
  });

  it('a refused connection: Unable to establish connection with host, exit 4, nothing written', async () => {
    const home = newHome();
    const port = await closedPort();
    const r = await add(home, details({ url: `wss://127.0.0.1:${port}/x` }), '--yes');
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('Error: Unable to establish connection with host: 127.0.0.1');
    nothingWritten(home);
  });

  it('a port that does not speak TLS: Failed to setup SSL security, exit 4', async () => {
    const plain = await startPlainServer('http');
    closers.push(() => plain.close());
    const home = newHome();
    const r = await add(home, details({ url: `wss://127.0.0.1:${plain.port}/x` }), '--yes');
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('Error: Failed to setup SSL security');
    nothingWritten(home);
  });

  it('--timeout bounds a handshake that never comes', async () => {
    const silent = await startPlainServer('silent');
    closers.push(() => silent.close());
    const r = await add(newHome(), details({ url: `wss://127.0.0.1:${silent.port}/x` }), '--yes', '--timeout', '300');
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('did not complete a TLS handshake within 300 ms');
  });

  it.each(['0', 'abc', '1.5'])('--timeout %s is a usage error', async (t) => {
    const r = await add(newHome(), details({ url: server.url() }), '--yes', '--timeout', t);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('expected milliseconds');
  });

  it("invalid details: exit 3, the guide's words, nothing written, no store created", async () => {
    const home = newHome();
    for (const [d, msg] of [
      [details({ url: 'ws://127.0.0.1/x' }), 'Error: Invalid websocket protocol. Only wss protocol supported'],
      [details({ token: "it's" }), "Error: JSON contents not valid: an apostrophe (') at line 2"],
      [details({ priority: -3 }), 'Error: JSON contents not valid: priority is -3'],
      [details({ url: 'wss://u:p@127.0.0.1/x?k=SECRET' }), 'Error: Malformed URL: wss://<redacted>@127.0.0.1/x?<redacted>'],
      ['{"token": }', "Error: JSON contents not valid: not valid JSON: unexpected character '}', a value was expected at line 1, column 11"],
    ] as const) {
      const r = await add(home, d, '--yes');
      expect(r.code, msg).toBe(3);
      expect(r.stderr).toContain(msg);
      expect(r.stderr).not.toContain('SECRET');
      expect(hasStackTrace(r.stderr)).toBe(false);
    }
    nothingWritten(home);
  });

  it('a details file over 1 MiB is refused from its size, exit 3', async () => {
    const p = join(tempDir(), 'big.json');
    writeFileSync(p, Buffer.alloc(2 * 1024 * 1024, 0x20));
    const r = await runCli(['add', '--file', p, '--yes'], newHome().env);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('JSON contents not valid: the details are larger than 1 MiB (2097152 bytes)');
  });

  it('a details file that does not exist: exit 2, names the path', async () => {
    const r = await runCli(['add', '--file', '/nonexistent/endpoint.json'], newHome().env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Cannot read the endpoint details file /nonexistent/endpoint.json: no such file');
  });

  it('no source without a terminal: exit 2, names --file and --url', async () => {
    const r = await runCli(['add'], newHome().env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--file PATH (- for standard input) or --url URL');
  });

  it('--file - reads the details from standard input', async () => {
    const home = newHome();
    const r = await runCli(['add', '--file', '-', '--yes'], home.env, JSON.stringify(details({ url: server.url() })));
    expect(r.code).toBe(0);
    expect(fileTokens(home)).toEqual({ localhost: TOKEN });
  });

  it('warns when the details file is readable by others: it holds a secret', async () => {
    const p = detailsFile(details({ url: server.url() }), 0o644);
    const r = await runCli(['add', '--file', p, '--yes'], newHome().env);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`Warning: ${p} is readable by other users and holds a token; restrict it with: chmod 600 ${p}`);
  });

  it('warns about unknown fields and a hostName that differs from the url', async () => {
    const r = await add(newHome(), { ...details({ url: server.url(), hostName: 'cloud.example.com' }), comment: 'x' }, '--yes');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Warning: ignoring unknown field: comment');
    expect(r.stderr).toContain('Warning: hostName cloud.example.com differs from the host of the url (127.0.0.1)');
  });

  it('the same host again, in any case: the entity already exists, exit 6', async () => {
    const home = newHome();
    expect((await add(home, details({ url: server.url() }), '--yes')).code).toBe(0);
    const r = await add(home, details({ url: server.url(), hostName: 'LOCALHOST', token: 'new-token' }), '--yes');
    expect(r.code).toBe(6);
    expect(r.stderr).toContain('Error: the entity already exists');
    expect(fileTokens(home)).toEqual({ localhost: TOKEN });
  });

  it('an array is added all-or-nothing: one unreachable endpoint saves none', async () => {
    const home = newHome();
    const port = await closedPort();
    const r = await add(
      home,
      [details({ url: server.url(), hostName: 'ep1.test' }), details({ url: `wss://127.0.0.1:${port}/x`, hostName: 'ep2.test' })],
      '--yes',
    );
    expect(r.code).toBe(4);
    nothingWritten(home);
  });

  it('an array with a host already saved adds none, exit 6', async () => {
    const home = newHome();
    expect((await add(home, details({ url: server.url(), hostName: 'ep1.test' }), '--yes')).code).toBe(0);
    const r = await add(home, [details({ url: server.url(), hostName: 'ep2.test' }), details({ url: server.url(), hostName: 'EP1.test' })], '--yes');
    expect(r.code).toBe(6);
    expect(storeRows(home).map((x) => x.host_name)).toEqual(['ep1.test']);
  });

  it('an array: all saved, --json prints them on stdout and nothing else', async () => {
    const home = newHome();
    const r = await add(
      home,
      [details({ url: server.url(), hostName: 'ep1.test', priority: 2 }), details({ url: server.url(), hostName: 'ep2.test', token: 't2', groupId: 'sg2' })],
      '--yes',
      '--json',
      '--deactivated',
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      {
        hostName: 'ep1.test',
        url: server.url(),
        groupId: 'sg1',
        priority: 2,
        state: 'DEACTIVATED',
        pinType: 'cert',
        replaced: false,
        fingerprint: cert.fingerprint,
        notAfter: expect.any(String),
      },
      {
        hostName: 'ep2.test',
        url: server.url(),
        groupId: 'sg2',
        priority: 1,
        state: 'DEACTIVATED',
        pinType: 'cert',
        replaced: false,
        fingerprint: cert.fingerprint,
        notAfter: expect.any(String),
      },
    ]);
    expect(fileTokens(home)).toEqual({ 'ep1.test': TOKEN, 'ep2.test': 't2' });
  });
});
