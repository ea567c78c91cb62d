import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchDetails, parseDetailsUrl } from '../../src/core/endpoint/remote.js';
import { makeCert, type Cert } from '../helpers/certs.js';
import { closedPort, startHttpsServer, type HttpsServer } from '../helpers/servers.js';
import { cleanupTempDirs } from '../helpers/tmp.js';

// fetchDetails in-process against a real https server on loopback with a CA
// the test makes (the CLI's end-to-end tests of --url are in test/e2e/url.test.ts).

let ca: Cert;
let web: HttpsServer;
const json = (body: string) => (_q: unknown, res: ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' }).end(body);
beforeAll(async () => {
  ca = makeCert({ cn: 'Test CA', isCa: true });
  web = await startHttpsServer(makeCert({ ca }), {
    '/ok': json('{"a":1}'),
    '/r1': (_q, res) => res.writeHead(302, { location: web.url('/ok') }).end(),
    '/http': (_q, res) => res.writeHead(302, { location: 'http://127.0.0.1:1/ok' }).end(),
    '/loop': (_q, res) => res.writeHead(302, { location: web.url('/loop') }).end(),
    '/404': (_q, res) => res.writeHead(404).end(),
    '/big': (_q, res) => res.writeHead(200).end(Buffer.alloc(1024 * 1024 + 10, 0x20)),
    '/stall': (_q, res) => {
      res.writeHead(200);
      res.write('{');
    },
  });
});
afterAll(async () => {
  await web.close();
  cleanupTempDirs();
});

const get = (path: string, timeoutMs = 5000) => fetchDetails(web.url(path), { caFiles: [ca.certPath], timeoutMs, env: {} });

describe('parseDetailsUrl', () => {
  it('https only, parsable, no user:password@', () => {
    expect(parseDetailsUrl('https://h/x').host).toBe('h');
    expect(() => parseDetailsUrl('http://h/x')).toThrow('Invalid command parameter');
    expect(() => parseDetailsUrl('not a url')).toThrow('Malformed URL: not a url');
    expect(() => parseDetailsUrl('https://u:p@h/x?otp=1')).toThrow('Malformed URL: https://<redacted>@h/x?<redacted>');
  });
});

describe('fetchDetails', () => {
  it('fetches the body, following a redirect', async () => {
    expect((await get('/ok')).toString()).toBe('{"a":1}');
    expect((await get('/r1')).toString()).toBe('{"a":1}');
  });

  it('refuses a redirect to http, a redirect loop, an HTTP error and a body over 1 MiB', async () => {
    await expect(get('/http')).rejects.toMatchObject({ code: 'NETWORK', hint: expect.stringContaining('which is not https') });
    await expect(get('/loop')).rejects.toMatchObject({ code: 'NETWORK', hint: expect.stringMatching(/redirect loop|more than 3 redirects/) });
    await expect(get('/404')).rejects.toMatchObject({ code: 'NETWORK', hint: expect.stringContaining('answered HTTP 404') });
    await expect(get('/big')).rejects.toMatchObject({ code: 'INVALID_DETAILS', message: expect.stringContaining('larger than 1 MiB') });
  });

  it('an untrusted certificate (no --ca-file) and a refused connection are network errors', async () => {
    await expect(fetchDetails(web.url('/ok'), { timeoutMs: 5000, env: {} })).rejects.toMatchObject({
      code: 'NETWORK',
      message: 'Failed to open connection to the remote object referred to by the URL',
    });
    const port = await closedPort();
    await expect(fetchDetails(`https://127.0.0.1:${port}/x`, { timeoutMs: 5000, env: {} })).rejects.toMatchObject({
      code: 'NETWORK',
      message: 'Unable to establish connection with host: 127.0.0.1',
      hint: expect.stringContaining('refused'),
    });
  });

  it('--timeout is a deadline for the whole fetch', async () => {
    await expect(get('/stall', 300)).rejects.toMatchObject({ code: 'NETWORK', hint: expect.stringContaining('did not arrive within 300 ms') });
  });

  it('an unreadable --ca-file is a usage error', async () => {
    await expect(fetchDetails(web.url('/ok'), { caFiles: ['/no/such/ca.pem'], env: {} })).rejects.toMatchObject({
      code: 'USAGE',
      message: expect.stringContaining('Cannot read --ca-file /no/such/ca.pem'),
    });
  });
});
