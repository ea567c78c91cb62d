import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCert, makeExpiredCert, type Cert } from '../helpers/certs.js';
import { details, detailsFile, newHome, runCli, type Home } from '../helpers/cli.js';
import { closedPort, startTlsServer, type TlsServer } from '../helpers/servers.js';
import { storeRows } from '../helpers/store.js';
import { cleanupTempDirs } from '../helpers/tmp.js';

let cert: Cert;
const closers: (() => Promise<void>)[] = [];
const serve = async (c: Cert) => {
  const s = await startTlsServer(c);
  closers.push(() => s.close());
  return s;
};
let server: TlsServer;

beforeAll(async () => {
  cert = makeCert();
  server = await serve(cert);
});
afterAll(async () => {
  await Promise.all(closers.map((c) => c()));
  cleanupTempDirs();
});

const addTo = async (home: Home, s: TlsServer, host: string, ...flags: string[]) => {
  const r = await runCli(['add', '--file', detailsFile(details({ hostName: host, url: s.url() })), '--yes', ...flags], home.env);
  expect(r.code, r.stderr).toBe(0);
};

describe('nbwss validate', () => {
  it('checks the details and shows the certificate, writing nothing (not even a store)', async () => {
    const home = newHome();
    const r = await runCli(['validate', '--file', detailsFile(details({ url: server.url() }))], home.env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Server Information');
    expect(r.stdout).toContain('Token:                      ********');
    expect(r.stdout).toContain(`SHA-256:    ${cert.fingerprint}`);
    expect(r.stdout).not.toContain('tok-Secret-123');
    expect(existsSync(home.dir)).toBe(false);
  });

  it('--json: details with the token masked, the certificate with its verification status, warnings', async () => {
    const r = await runCli(['validate', '--json', '--file', detailsFile({ ...details({ url: server.url() }), note: 1 })], newHome().env);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.details).toEqual({ token: '********', priority: 1, groupId: 'sg1', hostName: 'localhost', url: server.url() });
    expect(Object.keys(j.certificate).sort()).toEqual(
      [
        'chain',
        'fingerprint',
        'hostnameMatches',
        'issuer',
        'notAfter',
        'notBefore',
        'sans',
        'serialNumber',
        'spkiFingerprint',
        'subject',
        'trustError',
        'trusted',
      ].sort(),
    );
    expect(j.certificate.fingerprint).toBe(cert.fingerprint);
    expect(j.certificate.trusted).toBe(false);
    expect(j.certificate.hostnameMatches).toBe(true);
    expect(j.warnings).toContain('ignoring unknown field: note');
  });

  it('the same exit codes as add: 3 invalid, 4 unreachable, 6 exists', async () => {
    const home = newHome();
    expect((await runCli(['validate', '--file', detailsFile(details({ url: 'ws://x/' }))], home.env)).code).toBe(3);
    const port = await closedPort();
    expect((await runCli(['validate', '--file', detailsFile(details({ url: `wss://127.0.0.1:${port}/` }))], home.env)).code).toBe(4);
    await addTo(home, server, 'localhost');
    const r = await runCli(['validate', '--file', detailsFile(details({ url: server.url() }))], home.env);
    expect(r.code).toBe(6);
    expect(r.stderr).toContain('the entity already exists');
  });

  it('needs --file or --url', async () => {
    const r = await runCli(['validate'], newHome().env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--file PATH (- for standard input) or --url URL');
  });
});

describe('nbwss check', () => {
  it('OK for every endpoint that presents its pin and is not near expiry: exit 0', async () => {
    const home = newHome();
    await addTo(home, server, 'a.test');
    await addTo(home, server, 'b.test');
    const r = await runCli(['check', '--json'], home.env);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).map((x: { hostName: string; status: string }) => [x.hostName, x.status])).toEqual([
      ['a.test', 'OK'],
      ['b.test', 'OK'],
    ]);
  });

  it('add --yes of an expired certificate: allowed, never silently (a warning names why)', async () => {
    const expired = await serve(await makeExpiredCert());
    const r = await runCli(['add', '--file', detailsFile(details({ hostName: 'old.test', url: expired.url() })), '--yes'], newHome().env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Warning: the certificate of old\.test: it expired on \d{4}-/);
    const v = await runCli(['validate', '--file', detailsFile(details({ hostName: 'old.test', url: expired.url() })), '--json'], newHome().env);
    expect(JSON.parse(v.stdout).warnings).toContainEqual(expect.stringMatching(/^the certificate of old\.test: it expired on /));
  });

  it('CHANGED, EXPIRING, EXPIRED, UNREACHABLE: each reported, exit non-zero, CHANGED says the fix', async () => {
    const home = newHome();
    const changing = await serve(cert);
    const soon = await serve(makeCert({ days: 10 }));
    const expired = await serve(await makeExpiredCert());
    await addTo(home, changing, 'changed.test');
    await addTo(home, soon, 'expiring.test');
    await addTo(home, expired, 'expired.test');
    await addTo(home, server, 'ok.test');
    changing.setCert(makeCert());
    const r = await runCli(['check', '--json'], home.env);
    const status = Object.fromEntries(JSON.parse(r.stdout).map((x: { hostName: string; status: string }) => [x.hostName, x.status]));
    expect(status).toEqual({ 'changed.test': 'CHANGED', 'expiring.test': 'EXPIRING', 'expired.test': 'EXPIRED', 'ok.test': 'OK' });
    expect(r.code).toBe(5);
    const text = await runCli(['check', 'changed.test'], home.env);
    expect(text.stdout).toContain('nbwss repin changed.test');
    expect(text.code).toBe(5);
    // --days moves the EXPIRING line.
    expect((await runCli(['check', 'expiring.test', '--days', '5'], home.env)).code).toBe(0);
    // An endpoint that went away.
    await changing.close();
    const gone = await runCli(['check', 'changed.test', 'ok.test', '--json'], home.env);
    expect(gone.code).toBe(4);
    expect(JSON.parse(gone.stdout)[0]).toMatchObject({
      hostName: 'changed.test',
      status: 'UNREACHABLE',
      detail: expect.stringContaining('Unable to establish connection with host: 127.0.0.1'),
    });
  });

  it('an unknown host: exit 7; no store: nothing to check, and nothing created', async () => {
    const h = newHome();
    expect((await runCli(['check', 'nope.test'], h.env)).code).toBe(7);
    const r = await runCli(['check', '--json'], h.env);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('[]\n');
    expect(existsSync(h.dir)).toBe(false);
  });
});

describe('nbwss repin', () => {
  it('shows old and new side by side and replaces the pin once accepted', async () => {
    const home = newHome();
    const s = await serve(cert);
    await addTo(home, s, 'host.test');
    const renewed = makeCert();
    s.setCert(renewed);
    const wrong = await runCli(['repin', 'host.test', '--fingerprint', cert.fingerprint], home.env);
    expect(wrong.code).toBe(5);
    expect(wrong.stderr).toContain('The certificate did not match with the one accepted by the user, please verify the certificate');
    expect(storeRows(home)[0]!.fingerprint).toBe(cert.fingerprint);
    const noTty = await runCli(['repin', 'host.test'], home.env);
    expect(noTty.code).toBe(5);
    expect(storeRows(home)[0]!.fingerprint).toBe(cert.fingerprint);
    const r = await runCli(['repin', 'host.test', '--fingerprint', renewed.fingerprint], home.env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`SHA-256\\s+${cert.fingerprint}\\s+${renewed.fingerprint}`));
    expect(r.stderr).toContain('The public key is different.');
    expect(storeRows(home)[0]!.fingerprint).toBe(renewed.fingerprint);
    expect((await runCli(['check', 'host.test'], home.env)).code).toBe(0);
  });

  it('an unknown host: exit 7', async () => {
    expect((await runCli(['repin', 'nope.test', '--yes'], newHome().env)).code).toBe(7);
  });
});

describe('--pin spki', () => {
  it('survives a renewal that keeps the key; a cert pin does not', async () => {
    const home = newHome();
    const s = await serve(cert);
    await addTo(home, s, 'spki.test', '--pin', 'spki');
    await addTo(home, s, 'cert.test');
    const list = JSON.parse((await runCli(['list', '--json'], home.env)).stdout);
    expect(list.map((x: { pinType: string }) => x.pinType)).toEqual(['cert', 'spki']);
    s.setCert(makeCert({ keyFrom: cert }));
    const r = await runCli(['check', '--json'], home.env);
    expect(Object.fromEntries(JSON.parse(r.stdout).map((x: { hostName: string; status: string }) => [x.hostName, x.status]))).toEqual({
      'spki.test': 'OK',
      'cert.test': 'CHANGED',
    });
    const repin = await runCli(['repin', 'cert.test', '--yes'], home.env);
    expect(repin.code).toBe(0);
    expect(repin.stderr).toContain('The public key is the same (a renewal that kept the key).');
    const shown = JSON.parse((await runCli(['show', 'spki.test', '--json'], home.env)).stdout);
    expect(shown.pinType).toBe('spki');
  });
});
