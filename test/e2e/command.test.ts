import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startReferenceEndpoint, throwawayCertificate, type ReceivedMessage, type ReferenceEndpoint } from '../../src/reference-endpoint/index.js';
import { startNetBackupApi, type NetBackupApi } from '../../src/reference-endpoint/netbackup-api.js';
import { runCli } from '../helpers/cli.js';
import { addEndpoint, homeWith, useReferenceEndpoints } from '../helpers/setup.js';
import { startDaemon, startSharedDaemon, stopAllDaemons, type DaemonProcess } from '../helpers/daemon.js';
import { closedPort } from '../helpers/servers.js';
import { runInPty } from '../helpers/pty.js';
import { cleanupTempDirs } from '../helpers/tmp.js';

const endpoint = useReferenceEndpoints();
const started: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await stopAllDaemons();
  await Promise.all(started.splice(0).map((e) => e.close()));
});
afterAll(cleanupTempDirs);

const JWT = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiI.secret-part-of-the-jwt';
/** The guide's example A (POST) and B (GET), as the cloud sends them. */
const EXAMPLE_A = {
  uri: '/netbackup/config/servers/vmservers',
  method: 'POST',
  headers: { 'Content-Type': 'application/json', Authorization: JWT },
  parameters:
    '{"serverName": "vcenterServer1", "proxyServerName": "","vmType": "VMWARE_VIRTUAL_CENTER_SERVER","userId": "administrator", "password": "password@123","port": 0 }',
};
const EXAMPLE_B = {
  uri: '/netbackup/config/servers/vmservers/vCenter2.domain.com',
  method: 'GET',
  headers: { 'Content-Type': 'application/json', Authorization: JWT },
};

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => boolean;

async function api(handler?: Handler): Promise<NetBackupApi> {
  // The guide's COMMAND examples are of NetBackup 8.x: example C's answer names API version 4.0, as an 8.3 primary's does.
  const a = await startNetBackupApi({ handler, release: '8.3' });
  started.push(a);
  return a;
}

const home = homeWith;

/**
 * A store whose daemon is connected to a reference endpoint and sends REST calls to `a` (trusted by its CA file unless
 * said otherwise). `shared`: the endpoint and the daemon outlive the test (the caller closes and stops them).
 */
async function connectedTo(a: NetBackupApi | undefined, props: Record<string, string | number | boolean> = {}, trust: 'ca' | 'none' = 'ca', shared = false) {
  const endpointOptions = props.silentToConnect ? { silentToConnect: true } : {};
  const ep = shared ? await startReferenceEndpoint({ token: 'good-token', ...endpointOptions }) : await endpoint(endpointOptions);
  const { silentToConnect, ...rest } = props;
  const h = home(rest);
  if (a) {
    // Written into nbwss.properties as an administrator may (config set's own tests are in config.test): two CLI runs fewer per test.
    let props = `api.baseUrl=${a.baseUrl}\n`;
    if (trust === 'ca') {
      const ca = join(h.dir, 'netbackup-ca.pem');
      writeFileSync(ca, a.certPem);
      props += `api.caFile=${ca}\n`;
    }
    appendFileSync(join(h.dir, 'nbwss.properties'), props);
  }
  await addEndpoint(h, 'ep1.test', ep.url);
  const d = shared ? startSharedDaemon(h.env) : startDaemon(h.env);
  if (!silentToConnect) await d.waitFor((l) => l.msg === 'connected');
  return { ep, h, d };
}

const payloadOf = (m: ReceivedMessage) => m.payload as { headers: Record<string, string>; responseCode: number; body: string };

describe('COMMAND: the cloud calls the NetBackup REST API through the daemon', () => {
  it("the guide's examples A (POST) and B (GET): mapped onto api.baseUrl, headers and body passed, the answer as example C", async () => {
    const a = await api();
    const { ep } = await connectedTo(a);
    const created = await ep.command(EXAMPLE_A, { id: '99B9BD8C-9E3E-406A-A7EE-33B88531C7D9' });
    expect(created).toMatchObject({ version: '1.0', id: '99B9BD8C-9E3E-406A-A7EE-33B88531C7D9', type: 'COMMAND', subType: 'RESPONSE' });
    expect(payloadOf(created).responseCode).toBe(201);
    const seen = a.requests.at(-1)!;
    expect(seen).toMatchObject({ method: 'POST', url: '/netbackup/config/servers/vmservers', body: EXAMPLE_A.parameters });
    expect(seen.headers).toMatchObject({ authorization: JWT, 'content-type': 'application/json', host: `127.0.0.1:${a.port}` });
    expect(seen.headers['content-length']).toBe(String(Buffer.byteLength(EXAMPLE_A.parameters)));

    const read = await ep.command({ ...EXAMPLE_B, uri: '/netbackup/config/servers/vmservers/vcenterServer1' });
    const p = payloadOf(read);
    expect(p.responseCode).toBe(200);
    expect(p.headers['content-type']).toBe('application/vnd.netbackup+json;version=4.0');
    expect(p.headers['cache-control']).toBe('private');
    for (const name of Object.keys(p.headers)) expect(name).toBe(name.toLowerCase());
    expect(JSON.parse(p.body)).toMatchObject({ vmServer: { serverName: 'vcenterServer1', vmType: 'VMWARE_VIRTUAL_CENTER_SERVER', password: '' } });

    // Example B names a server NetBackup does not have: its 404 is passed through as it is.
    const missing = payloadOf(await ep.command(EXAMPLE_B));
    expect(missing.responseCode).toBe(404);
    expect(missing.headers['x-nbwss-error']).toBeUndefined();
    expect(JSON.parse(missing.body)).toEqual({ errorCode: 9003, errorMessage: 'The server vCenter2.domain.com was not found' });
  });

  it('PUT, PATCH and DELETE round-trip; 4xx and 5xx pass through; repeated headers are joined', async () => {
    const a = await api((req, res) => {
      if (req.url === '/netbackup/test/fail') res.writeHead(500, { 'content-type': 'text/plain' }).end('boom');
      else if (req.url === '/netbackup/test/cookies')
        res
          .writeHead(200, [
            ['set-cookie', 'a=1'],
            ['set-cookie', 'b=2'],
            ['X-Mixed-Case', 'v'],
          ])
          .end('');
      else return false;
      return true;
    });
    const { ep } = await connectedTo(a);
    const auth = { Authorization: JWT, 'Content-Type': 'application/json' };
    const call = async (method: string, uri: string, parameters?: string) => payloadOf(await ep.command({ uri, method, headers: auth, parameters }));
    expect(
      (await call('POST', '/netbackup/config/servers/vmservers', '{"serverName":"vc1","vmType":"X","userId":"u","password":"p","port":0}')).responseCode,
    ).toBe(201);
    expect((await call('POST', '/netbackup/config/servers/vmservers', '{"serverName":"vc1"}')).responseCode).toBe(409);
    expect((await call('PUT', '/netbackup/config/servers/vmservers/vc1', '{"vmType":"Y","userId":"u2","password":"p","port":1}')).responseCode).toBe(204);
    expect((await call('PATCH', '/netbackup/config/servers/vmservers/vc1', '{"port":443}')).responseCode).toBe(204);
    expect(JSON.parse((await call('GET', '/netbackup/config/servers/vmservers/vc1')).body).vmServer).toMatchObject({ vmType: 'Y', userId: 'u2', port: 443 });
    expect((await call('DELETE', '/netbackup/config/servers/vmservers/vc1')).responseCode).toBe(204);
    expect((await call('GET', '/netbackup/config/servers/vmservers/vc1')).responseCode).toBe(404);
    expect((await call('POST', '/netbackup/config/servers/vmservers', 'not json')).responseCode).toBe(400);
    const unauth = payloadOf(await ep.command({ uri: '/netbackup/config/servers/vmservers', method: 'GET' }));
    expect(unauth.responseCode).toBe(401); // the daemon adds no credentials of its own
    expect(await call('GET', '/netbackup/test/fail')).toMatchObject({ responseCode: 500, body: 'boom' });
    const joined = await call('GET', '/netbackup/test/cookies');
    expect(joined.headers['set-cookie']).toBe('a=1, b=2');
    expect(joined.headers['x-mixed-case']).toBe('v');
  });

  it('hop-by-hop headers, Host and Content-Length from the cloud are not passed on', async () => {
    const a = await api();
    const { ep } = await connectedTo(a);
    await ep.command({
      uri: '/netbackup/config/servers/vmservers',
      method: 'POST',
      headers: {
        Authorization: JWT,
        Host: 'evil.example',
        'Content-Length': '999',
        Connection: 'keep-alive, X-Drop-Me',
        'X-Drop-Me': '1',
        'Transfer-Encoding': 'chunked',
        Upgrade: 'h2c',
        'Proxy-Authorization': 'Basic x',
        'X-Kept': 'yes',
      },
      parameters: '{"serverName":"h1"}',
    });
    const h = a.requests.at(-1)!.headers;
    expect(h.host).toBe(`127.0.0.1:${a.port}`);
    expect(h['content-length']).toBe('19');
    expect(h['x-drop-me']).toBeUndefined();
    expect(h.upgrade).toBeUndefined();
    expect(h['proxy-authorization']).toBeUndefined();
    expect(h['transfer-encoding']).toBeUndefined();
    expect(h['x-kept']).toBe('yes');
  });

  // Refusals never reach the REST service and leave the connection as it was: every case on one connection, as a
  // cloud sends them, one after another (a daemon and an endpoint for each case cost ~40 s of CPU over both stores).
  describe('refused before the REST service, case after case on one connection', () => {
    let refusing: { a: NetBackupApi; ep: ReferenceEndpoint; d: DaemonProcess };
    beforeAll(async () => {
      const a = await startNetBackupApi({ release: '8.3' });
      const { ep, d } = await connectedTo(a, {}, 'ca', true);
      refusing = { a, ep, d };
    });
    afterAll(async () => {
      await refusing?.d.stop();
      await Promise.all([refusing?.ep.close(), refusing?.a.close()]);
    });
    afterEach(() => {
      // Still the one connection: a refusal closed nothing.
      expect(refusing.d.lines.filter((l) => l.msg === 'connected')).toHaveLength(1);
    });

    it.each([
      'https://evil.example/netbackup/config',
      '//evil.example/netbackup/config',
      'netbackup/config',
      '/netbackup/../admin',
      '/netbackup/config/../../etc',
      '/netbackup/%2e%2e/admin',
      '/netbackup/%2E%2E/admin',
      '/netbackup/%252e%252e/admin',
      '/netbackup/..%2fadmin',
      '/netbackup/%2fadmin',
      '/netbackup\\..\\admin',
      '/netbackup/a%5c..%5cb',
      '/netbackup/a\u0000b',
      '/netbackup/a\r\nHost: evil',
      '/netbackup/a b',
      '/netbackup/a%00b',
      '/netbackup/config#frag',
      '/netbackupx/config',
      '/other/netbackup/config',
      '/',
      '/netbackup/%',
    ])('%j is refused 403 and never reaches the REST service', async (uri) => {
      const { a, ep } = refusing;
      const r = payloadOf(await ep.command({ uri, method: 'GET', headers: { Authorization: JWT } }));
      expect(r.responseCode).toBe(403);
      expect(r.headers).toMatchObject({ 'content-type': 'application/json', 'x-nbwss-error': 'NBWSS_URI_REFUSED' });
      expect(JSON.parse(r.body)).toMatchObject({ errorCode: 'NBWSS_URI_REFUSED', errorMessage: expect.any(String) });
      expect(a.requests).toEqual([]);
    });

    it.each([
      ['TRACE', 405, 'NBWSS_METHOD_NOT_ALLOWED'],
      ['get', 405, 'NBWSS_METHOD_NOT_ALLOWED'],
      ['CONNECT', 405, 'NBWSS_METHOD_NOT_ALLOWED'],
    ])('method %s: %i %s', async (method, code, errorCode) => {
      const { a, ep } = refusing;
      const r = payloadOf(await ep.command({ uri: '/netbackup/config/servers/vmservers', method, headers: { Authorization: JWT } }));
      expect(r.responseCode).toBe(code);
      expect(JSON.parse(r.body).errorCode).toBe(errorCode);
      expect(a.requests).toEqual([]);
    });

    it.each([
      ['no uri', { method: 'GET' }],
      ['no method', { uri: '/netbackup/x' }],
      ['headers that are not an object', { uri: '/netbackup/x', method: 'GET', headers: ['a'] }],
      ['a header value that is not a string', { uri: '/netbackup/x', method: 'GET', headers: { 'X-N': 1 } }],
      ['a header value with a line break', { uri: '/netbackup/x', method: 'GET', headers: { 'X-N': 'a\r\nHost: evil' } }],
      ['a header name that is not a token', { uri: '/netbackup/x', method: 'GET', headers: { 'X N': 'a' } }],
      ['parameters that are not a string', { uri: '/netbackup/x', method: 'POST', parameters: { a: 1 } }],
    ])('a malformed payload (%s) is answered 400 NBWSS_BAD_REQUEST', async (_what, payload) => {
      const { a, ep } = refusing;
      const r = payloadOf(await ep.command(payload));
      expect(r.responseCode).toBe(400);
      expect(JSON.parse(r.body).errorCode).toBe('NBWSS_BAD_REQUEST');
      expect(a.requests).toEqual([]);
    });
  });

  it('the REST service refuses the connection: 502 NBWSS_API_UNREACHABLE', async () => {
    const port = await closedPort();
    const a = await api();
    const { ep, h, d } = await connectedTo(a);
    const from = d.mark();
    expect((await runCli(['config', 'set', 'api.baseUrl', `https://127.0.0.1:${port}/netbackup`], h.env)).code).toBe(0);
    await d.waitFor((l) => l.msg === 'REST client settings changed', 10_000, from);
    const r = payloadOf(await ep.command({ uri: '/netbackup/config/servers/vmservers', method: 'GET', headers: { Authorization: JWT } }));
    expect(r.responseCode).toBe(502);
    expect(JSON.parse(r.body)).toEqual({ errorCode: 'NBWSS_API_UNREACHABLE', errorMessage: expect.stringContaining('refused the connection') });
  });

  it('no answer within api.timeout: 504 NBWSS_API_TIMEOUT', async () => {
    const a = await api((req) => req.url === '/netbackup/test/slow'); // never answered
    const { ep } = await connectedTo(a, { 'api.timeout': 300 });
    const r = payloadOf(await ep.command({ uri: '/netbackup/test/slow', method: 'GET', headers: { Authorization: JWT } }));
    expect(r.responseCode).toBe(504);
    expect(JSON.parse(r.body)).toEqual({ errorCode: 'NBWSS_API_TIMEOUT', errorMessage: 'the REST service did not answer within api.timeout (300 ms)' });
  });

  it('a response body over api.maxBodyBytes: 413 NBWSS_RESPONSE_TOO_LARGE', async () => {
    const a = await api((req, res) => {
      if (req.url !== '/netbackup/test/big') return false;
      res.writeHead(200, { 'content-type': 'text/plain' }).end('x'.repeat(4096));
      return true;
    });
    const { ep } = await connectedTo(a, { 'api.maxBodyBytes': 1024 });
    const r = payloadOf(await ep.command({ uri: '/netbackup/test/big', method: 'GET', headers: { Authorization: JWT } }));
    expect(r.responseCode).toBe(413);
    expect(JSON.parse(r.body).errorCode).toBe('NBWSS_RESPONSE_TOO_LARGE');
  });

  it('TLS: untrusted until api.caFile or a pin; a pin that no longer matches is 502 before any request byte', async () => {
    const a = await api();
    const { ep, h, d } = await connectedTo(a, {}, 'none');
    const get = async () => payloadOf(await ep.command({ uri: '/netbackup/config/servers/vmservers', method: 'GET', headers: { Authorization: JWT } }));
    // Nothing trusted yet: the daemon does not call an unverified service.
    const untrusted = await get();
    expect(untrusted.responseCode).toBe(502);
    expect(JSON.parse(untrusted.body)).toEqual({
      errorCode: 'NBWSS_API_TLS',
      errorMessage: "the REST service's certificate is not trusted yet: the administrator sets api.caFile or runs nbwss api pin",
    });
    expect(a.requests).toEqual([]);
    // Without a terminal, nbwss api pin needs --fingerprint (or --yes); a wrong one is refused.
    const refused = await runCli(['api', 'pin'], h.env);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain(a.fingerprint);
    const wrong = await runCli(['api', 'pin', '--fingerprint', `${'AB:'.repeat(31)}AB`], h.env);
    expect(wrong.code).toBe(5);
    const from = d.mark();
    const pinned = await runCli(['api', 'pin', '--fingerprint', a.fingerprint], h.env);
    expect(pinned.code, pinned.stderr).toBe(0);
    expect(pinned.stderr).toContain(`Pinned the certificate of the REST service at https://127.0.0.1:${a.port}`);
    await d.waitFor((l) => l.msg === 'REST client settings changed', 10_000, from);
    expect((await get()).responseCode).toBe(200);
    const shown = JSON.parse((await runCli(['api', 'show', '--json'], h.env)).stdout);
    expect(shown).toMatchObject({ baseUrl: a.baseUrl, caFile: null, pin: { origin: `https://127.0.0.1:${a.port}`, fingerprint: a.fingerprint } });
    const status = JSON.parse((await runCli(['status', '--json'], h.env)).stdout);
    expect(status.api).toEqual({ baseUrl: a.baseUrl, trust: `pinned ${a.fingerprint}`, auth: 'none', version: null });
    // The service now presents another certificate: refused after the handshake, before the request.
    const before = a.requests.length;
    a.setCertificate(await throwawayCertificate());
    const mismatch = await get();
    expect(mismatch.responseCode).toBe(502);
    expect(JSON.parse(mismatch.body).errorCode).toBe('NBWSS_API_TLS');
    expect(a.requests.length).toBe(before);
    // A CA file that did not sign the service's certificate is a TLS failure too.
    const other = await throwawayCertificate();
    const ca = join(h.dir, 'other-ca.pem');
    writeFileSync(ca, other.cert);
    const from2 = d.mark();
    expect((await runCli(['config', 'set', 'api.caFile', ca], h.env)).code).toBe(0);
    await d.waitFor((l) => l.msg === 'REST client settings changed', 10_000, from2);
    const badCa = await get();
    expect(badCa.responseCode).toBe(502);
    expect(JSON.parse(badCa.body).errorCode).toBe('NBWSS_API_TLS');
    expect((await runCli(['api', 'unpin'], h.env)).stderr).toContain('The pin of the REST service is removed.');
  });

  it('nbwss api pin at a terminal shows the certificate and pins it once the administrator accepts', async () => {
    const a = await api();
    const h = home();
    expect((await runCli(['config', 'set', 'api.baseUrl', a.baseUrl], h.env)).code).toBe(0);
    const s = runInPty(['api', 'pin'], h.env);
    await s.waitFor(`Pin this certificate for the REST service at https://127.0.0.1:${a.port}?`);
    s.type('y\r');
    const r = await s.done;
    expect(r.code).toBe(0);
    expect(r.output).toContain(a.fingerprint);
    expect(r.output).toContain('Pinned the certificate of the REST service');
    expect(JSON.parse((await runCli(['api', 'show', '--json'], h.env)).stdout).pin).toMatchObject({ fingerprint: a.fingerprint });
    // Declined: nothing pinned, exit 130.
    const h2 = home();
    expect((await runCli(['config', 'set', 'api.baseUrl', a.baseUrl], h2.env)).code).toBe(0);
    const no = runInPty(['api', 'pin'], h2.env);
    await no.waitFor('Pin this certificate');
    no.type('n\r');
    expect((await no.done).code).toBe(130);
    expect(JSON.parse((await runCli(['api', 'show', '--json'], h2.env)).stdout).pin).toBeNull();
  });

  it('at most api.maxInFlight calls per connection at once; the rest wait in order and are all answered', async () => {
    let now = 0;
    let most = 0;
    const a = await api((req, res) => {
      if (!req.url!.startsWith('/netbackup/test/held')) return false;
      now++;
      most = Math.max(most, now);
      // The service takes its time; the daemon must not have more than 2 outstanding.
      setTimeout(() => {
        now--;
        res.writeHead(200, { 'content-type': 'text/plain' }).end(req.url);
      }, 150);
      return true;
    });
    const { ep } = await connectedTo(a, { 'api.maxInFlight': 2 });
    const answers = await Promise.all(
      [1, 2, 3, 4, 5].map((i) => ep.command({ uri: `/netbackup/test/held?n=${i}`, method: 'GET', headers: { Authorization: JWT } }, { id: `CMD-${i}` })),
    );
    expect(answers.map((m) => [m.id, payloadOf(m).body])).toEqual([1, 2, 3, 4, 5].map((i) => [`CMD-${i}`, `/netbackup/test/held?n=${i}`]));
    expect(most).toBe(2);
    // The first two in, the others after them: they waited in order.
    expect(new Set(a.requests.slice(0, 2).map((r) => r.url))).toEqual(new Set(['/netbackup/test/held?n=1', '/netbackup/test/held?n=2']));
  });

  it('calls run side by side on one connection: a quick one is answered while a slow one is still out', async () => {
    let releaseSlow!: () => void;
    const slowHeld = new Promise<void>((r) => (releaseSlow = r));
    const a = await api((req, res) => {
      if (req.url !== '/netbackup/test/slow-then') return false;
      void slowHeld.then(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('slow'));
      return true;
    });
    const { ep } = await connectedTo(a);
    const order: string[] = [];
    const slow = ep
      .command({ uri: '/netbackup/test/slow-then', method: 'GET', headers: { Authorization: JWT } }, { id: 'SLOW' })
      .then((m) => order.push(m.id!));
    const quick = await ep.command({ uri: '/netbackup/config/servers/vmservers', method: 'GET', headers: { Authorization: JWT } }, { id: 'QUICK' });
    order.push(quick.id!);
    releaseSlow();
    await slow;
    expect(order).toEqual(['QUICK', 'SLOW']);
  });

  it('a connection that closes aborts its calls; each call is logged without header values, bodies or the query', async () => {
    let aborted!: () => void;
    let arrived!: () => void;
    const abortedP = new Promise<void>((r) => (aborted = r));
    const arrivedP = new Promise<void>((r) => (arrived = r));
    const a = await api((req, res) => {
      if (req.url !== '/netbackup/test/hang') return false;
      res.on('close', () => aborted()); // the daemon went away
      arrived();
      return true;
    });
    const { ep, h, d } = await connectedTo(a);
    await ep.command({ ...EXAMPLE_A, uri: '/netbackup/config/servers/vmservers?token=query-secret' });
    const answered = await d.waitFor((l) => l.msg === 'COMMAND answered');
    expect(answered).toMatchObject({ method: 'POST', path: '/netbackup/config/servers/vmservers?<redacted>', responseCode: 201, ms: expect.any(Number) });
    void ep.command({ uri: '/netbackup/test/hang', method: 'GET', headers: { Authorization: JWT } }).catch(() => {});
    await arrivedP;
    ep.closeClients();
    await abortedP;
    await d.waitFor((l) => l.msg === 'COMMAND abandoned: the connection closed');
    await d.stop();
    const log = readFileSync(join(h.dir, 'logs', 'nbwss.log'), 'utf8');
    for (const secret of [JWT, 'password@123', 'query-secret', 'application/json']) expect(log).not.toContain(secret);
  });
});

describe('COMMAND and the connection rules', () => {
  it('a COMMAND REQUEST before the CONNECT RESPONSE is answered 425 NBWSS_NOT_CONNECTED, not dropped', async () => {
    const { ep, d } = await connectedTo(undefined, { silentToConnect: true, 'connect.timeout': 5000 });
    await ep.waitForMessage((m) => m.type === 'CONNECT');
    const r = await ep.command({ uri: '/netbackup/x', method: 'GET' }, { id: 'EARLY-1' });
    expect(payloadOf(r).responseCode).toBe(425);
    expect(JSON.parse(payloadOf(r).body).errorCode).toBe('NBWSS_NOT_CONNECTED');
    await d.waitFor((l) => l.msg === 'COMMAND REQUEST before the CONNECT RESPONSE answered 425');
  });

  it('invalid UTF-8: closed by nbwss (1007) and said so; with exception.ignoreDecoder=true ignored and the connection stays', async () => {
    const strict = await connectedTo(undefined);
    strict.ep.sendBytesToClients(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]));
    expect(await strict.ep.closedCode(1)).toBe(1007);
    // The close frame says why (it used to carry no reason).
    expect(strict.ep.closeReasons[0]).toBe('closed by nbwss (1007): not a valid NBWSS message: not valid UTF-8');
    const ended = await strict.d.waitFor((l) => l.msg === 'connection ended; the group picks again');
    expect(ended.reason).toMatch(/^closed by nbwss \(1007\)/);
    expect(String(ended.reason)).not.toContain('closed by the endpoint');

    const lenient: { ep: ReferenceEndpoint; d: DaemonProcess } = await connectedTo(undefined, { 'exception.ignoreDecoder': true });
    lenient.ep.sendBytesToClients(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]));
    const ignored = await lenient.d.waitFor((l) => l.msg.startsWith('ignoring a message that is not a valid NBWSS message'));
    expect(ignored.reason).toBe('not valid UTF-8');
    // Still connected: the next COMMAND is answered on the same connection.
    expect(payloadOf(await lenient.ep.command({ uri: '/netbackup/x', method: 'GET' })).responseCode).toBe(502);
    expect(lenient.ep.closeCodes).toEqual([]);
  });

  it('a message that is not valid NBWSS during CONNECT closes with 1007 too (one rule)', async () => {
    const { ep, d } = await connectedTo(undefined, { silentToConnect: true });
    await ep.waitForMessage((m) => m.type === 'CONNECT');
    ep.sendToClients('{not json');
    expect(await ep.closedCode(1)).toBe(1007);
    const failed = await d.waitFor((l) => l.msg === 'connection attempt failed');
    expect(failed.reason).toMatch(/^closed by nbwss \(1007\): not a valid NBWSS message during CONNECT/);
  });
});
