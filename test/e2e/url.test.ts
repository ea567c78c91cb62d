import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCert, type Cert } from '../helpers/certs.js';
import { details, newHome, runCli, type Home } from '../helpers/cli.js';
import { closedPort, startConnectProxy, startHttpsServer, startTlsServer, type HttpsServer, type TlsServer } from '../helpers/servers.js';
import { fileTokens, storeRows } from '../helpers/store.js';
import { cleanupTempDirs } from '../helpers/tmp.js';

let ca: Cert;
let leaf: Cert;
let endpoint: TlsServer;
let web: HttpsServer;
let selfSignedWeb: HttpsServer;
const OTP = 'otp=SECRET-ONE-TIME-42';
let trickleBytes = 0;

const json = (body: unknown) => (_req: unknown, res: ServerResponse) =>
  res.writeHead(200, { 'content-type': 'application/json' }).end(typeof body === 'string' ? body : JSON.stringify(body));
const redirect = (to: () => string) => (_req: unknown, res: ServerResponse) => res.writeHead(302, { location: to() }).end();

beforeAll(async () => {
  ca = makeCert({ cn: 'Provider Root CA', isCa: true, days: 60 });
  leaf = makeCert({ cn: '127.0.0.1', sans: 'IP:127.0.0.1,DNS:localhost', ca });
  endpoint = await startTlsServer(makeCert());
  const good = () => details({ url: endpoint.url(), token: 'url-token' });
  web = await startHttpsServer(
    leaf,
    {
      '/details': (req, res) => json(good())(req, res),
      '/r1': redirect(() => web.url('/r2')),
      '/r2': redirect(() => web.url('/r3')),
      '/r3': redirect(() => web.url(`/details?${OTP}`)),
      '/r4': redirect(() => web.url('/r1')),
      '/to-http': redirect(() => `http://127.0.0.1:${web.port}/details`),
      '/loop': redirect(() => web.url('/loop')),
      '/500': (_q, res) => res.writeHead(500).end('boom'),
      '/huge': (_q, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        let sent = 0;
        const pump = () => {
          while (sent < 5 * 1024 * 1024) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        res.on('error', () => {});
        pump();
      },
      '/trickle': (_q, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        const timer = setInterval(() => {
          trickleBytes++;
          res.write(' ');
        }, 200);
        res.on('close', () => clearInterval(timer));
      },
      '/stall': (_q, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"token": ');
        // ... and nothing more, until the client gives up.
      },
      '/html': (_q, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Login</title>'),
      '/apostrophe': json(JSON.stringify(details({ url: 'wss://127.0.0.1:1/x', groupId: "bob's" }))),
    },
    [ca],
  );
  selfSignedWeb = await startHttpsServer(makeCert(), { '/details': json(good()) });
});
afterAll(async () => {
  await Promise.all([endpoint.close(), web.close(), selfSignedWeb.close()]);
  cleanupTempDirs();
});

const add = (home: Home, url: string, ...flags: string[]) => runCli(['add', '--url', url, '--yes', ...flags], home.env);

describe('nbwss add --url', () => {
  it('fetches the details over https (CA given with --ca-file), validates them like a file, saves', async () => {
    const home = newHome();
    const r = await add(home, web.url(`/details?${OTP}`), '--ca-file', ca.certPath);
    expect(r.code, r.stderr).toBe(0);
    expect(fileTokens(home)).toEqual({ localhost: 'url-token' });
    expect(r.stderr).not.toContain('SECRET-ONE-TIME');
  });

  it('--url - takes the URL from standard input, so its one-time secret is never in argv', async () => {
    const home = newHome();
    const r = await runCli(['add', '--url', '-', '--yes', '--ca-file', ca.certPath], home.env, `${web.url(`/details?${OTP}`)}\n`);
    expect(r.code, r.stderr).toBe(0);
    expect(fileTokens(home)).toEqual({ localhost: 'url-token' });
    expect(r.stderr).not.toContain('SECRET-ONE-TIME');
    const two = await runCli(['add', '--url', '-', '--yes'], newHome().env, 'https://a.test/x https://b.test/y\n');
    expect(two.code).toBe(2);
    expect(two.stderr).toContain('standard input must hold the details URL alone');
  });

  it('NODE_EXTRA_CA_CERTS is honoured', async () => {
    const home = newHome({ NODE_EXTRA_CA_CERTS: ca.certPath });
    const r = await add(home, web.url('/details'));
    expect(r.code, r.stderr).toBe(0);
    expect(fileTokens(home)).toEqual({ localhost: 'url-token' });
    // Without it (and without --ca-file) the same server is not trusted.
    expect((await add(newHome(), web.url('/details'))).code).toBe(4);
  });

  it('an untrusted certificate: Failed to open connection to the remote object, exit 4, nothing written', async () => {
    for (const url of [web.url(`/details?${OTP}`), selfSignedWeb.url('/details')]) {
      const home = newHome();
      const r = await add(home, url);
      expect(r.code).toBe(4);
      expect(r.stderr).toContain('Error: Failed to open connection to the remote object referred to by the URL');
      // Plain words first, OpenSSL's code after them.
      expect(r.stderr).toMatch(
        /the server's certificate is not trusted: (issued by a CA this machine does not know|self-signed|its chain ends in a self-signed certificate[^(]*) \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)\)/,
      );
      expect(r.stderr).not.toContain('SECRET-ONE-TIME');
      expect(storeRows(home)).toEqual([]);
    }
  });

  it('follows up to 3 redirects; a 4th is refused', async () => {
    expect((await add(newHome(), web.url('/r1'), '--ca-file', ca.certPath)).code).toBe(0);
    const r = await add(newHome(), web.url('/r4'), '--ca-file', ca.certPath);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('Failed to open connection to the remote object referred to by the URL');
    expect(r.stderr).toContain('more than 3 redirects');
  });

  it('a redirect to http is refused', async () => {
    const r = await add(newHome(), web.url('/to-http'), '--ca-file', ca.certPath);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('which is not https; the details are never fetched over plain http');
  });

  it('a redirect loop is refused', async () => {
    const r = await add(newHome(), web.url('/loop'), '--ca-file', ca.certPath);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('redirect loop');
  });

  it.each([
    ['/missing', 'answered HTTP 404'],
    ['/500', 'answered HTTP 500'],
  ])('%s: Failed to open connection to the remote object, with the cause', async (path, cause) => {
    const r = await add(newHome(), web.url(`${path}?${OTP}`), '--ca-file', ca.certPath);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('Error: Failed to open connection to the remote object referred to by the URL');
    expect(r.stderr).toContain(cause);
    expect(r.stderr).toContain(`${path}?<redacted>`);
    expect(r.stderr).not.toContain('SECRET-ONE-TIME');
  });

  it('a 5 MiB body is cut off and refused, exit 3', async () => {
    const r = await add(newHome(), web.url('/huge'), '--ca-file', ca.certPath);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('JSON contents not valid: the details are larger than 1 MiB');
  });

  it('a body that stalls does not hang the CLI: --timeout, exit 4', async () => {
    const r = await add(newHome(), web.url('/stall'), '--ca-file', ca.certPath, '--timeout', '500');
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('Error: Unable to establish connection with host: 127.0.0.1');
    expect(r.stderr).toContain('did not arrive within 500 ms');
  });

  it('--timeout is a deadline for the whole fetch: a server trickling one byte at a time does not keep the run alive', async () => {
    const r = await add(newHome(), web.url('/trickle'), '--ca-file', ca.certPath, '--timeout', '1500');
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('Error: Unable to establish connection with host: 127.0.0.1');
    expect(r.stderr).toContain('did not arrive within 1500 ms (--timeout bounds the whole fetch)');
    expect(trickleBytes).toBeGreaterThan(3); // it was sending all along, never idle for as long as a per-read timeout
  });

  it('HTML instead of JSON: InvalidPacketException Unable to parse JSON contents, exit 3', async () => {
    const r = await add(newHome(), web.url('/html'), '--ca-file', ca.certPath);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('Error: InvalidPacketException Unable to parse JSON contents');
  });

  it('details with an apostrophe: JSON contents not valid, exit 3', async () => {
    const r = await add(newHome(), web.url('/apostrophe'), '--ca-file', ca.certPath);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("Error: JSON contents not valid: an apostrophe (')");
  });

  it.each([
    [`http://127.0.0.1:1/details?${OTP}`, 'Error: Invalid command parameter'],
    ['wss://127.0.0.1/details', 'Error: Invalid command parameter'],
    [`not a url ${OTP}`, 'Error: Malformed URL: not a url otp=SECRET'],
  ])('%s is refused before any connection, exit 3', async (url, msg) => {
    const r = await add(newHome(), url);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(msg.replace(/ otp=SECRET$/, ''));
  });

  it('a refused connection: Unable to establish connection with host, exit 4', async () => {
    const port = await closedPort();
    const r = await add(newHome(), `https://127.0.0.1:${port}/details?${OTP}`);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('Error: Unable to establish connection with host: 127.0.0.1');
    expect(r.stderr).not.toContain('SECRET-ONE-TIME');
  });

  it('goes through HTTPS_PROXY, and around it for NO_PROXY', async () => {
    const proxy = await startConnectProxy();
    try {
      const via = await add(newHome({ HTTPS_PROXY: proxy.url }), web.url('/details'), '--ca-file', ca.certPath);
      expect(via.code, via.stderr).toBe(0);
      expect(proxy.tunnels).toEqual([`127.0.0.1:${web.port}`]);
      const around = await add(newHome({ HTTPS_PROXY: proxy.url, NO_PROXY: '127.0.0.1' }), web.url('/details'), '--ca-file', ca.certPath);
      expect(around.code).toBe(0);
      expect(proxy.tunnels).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });

  it('--file and --url together: usage error', async () => {
    const r = await runCli(['add', '--file', 'x.json', '--url', web.url('/details')], newHome().env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--file and --url cannot be used together');
  });
});
