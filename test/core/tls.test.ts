import { type AddressInfo, createServer } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NbwssError } from '../../src/core/errors.js';
import { fetchCertificate } from '../../src/core/tls/fetch.js';
import { makeCert, type Cert } from '../helpers/certs.js';
import { closedPort, startPlainServer, startTlsServer, type TlsServer } from '../helpers/servers.js';
import { cleanupTempDirs } from '../helpers/tmp.js';

let selfSigned: Cert;
let ca: Cert;
let leaf: Cert;
const servers: { close(): Promise<void> }[] = [];
const started = <T extends { close(): Promise<void> }>(s: T) => {
  servers.push(s);
  return s;
};

beforeAll(() => {
  selfSigned = makeCert();
  ca = makeCert({ cn: 'Test Root CA', isCa: true, days: 60 });
  leaf = makeCert({ cn: 'endpoint.test', sans: 'DNS:endpoint.test,IP:127.0.0.1', ca });
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  cleanupTempDirs();
});

const failure = async (p: Promise<unknown>): Promise<NbwssError> => {
  try {
    await p;
  } catch (e) {
    if (e instanceof NbwssError) return e;
    throw e;
  }
  throw new Error('resolved');
};

describe('fetchCertificate', () => {
  it('takes a self-signed certificate and describes it', async () => {
    const s: TlsServer = started(await startTlsServer(selfSigned));
    const c = await fetchCertificate(new URL(s.url()));
    expect(c.fingerprint).toBe(selfSigned.fingerprint);
    expect(c.subject).toBe('CN=localhost');
    expect(c.sans).toEqual(['DNS:localhost', 'IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1']);
    expect(c.trusted).toBe(false);
    expect(c.trustError).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(c.hostnameMatches).toBe(true);
    // The PEM pinned is the certificate as openssl writes it: 64 characters a line.
    expect(c.pem).toBe(selfSigned.cert);
    expect(c.spkiFingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  it('over IPv6 loopback', async () => {
    const s = started(await startTlsServer(selfSigned, { host: '::1' }));
    expect((await fetchCertificate(new URL(s.url()))).fingerprint).toBe(selfSigned.fingerprint);
  });

  it('reports the chain, and trusted once the CA is known', async () => {
    const s = started(await startTlsServer(leaf, { chain: [ca] }));
    const untrusted = await fetchCertificate(new URL(s.url()));
    expect(untrusted.trusted).toBe(false);
    expect(untrusted.chain.map((x) => x.subject)).toEqual(['CN=endpoint.test', 'CN=Test Root CA']);
    expect(untrusted.chain.map((x) => x.sans)).toEqual([['DNS:endpoint.test', 'IP Address:127.0.0.1'], []]);
    expect(untrusted.issuer).toBe('CN=Test Root CA');
    const trusted = await fetchCertificate(new URL(s.url()), { ca: [ca.cert] });
    expect(trusted.trusted).toBe(true);
    expect(trusted.fingerprint).toBe(leaf.fingerprint);
  });

  it('names the host it asks for (SNI), never an IP address', async () => {
    // The server hears a name only when the client sends one (its SNICallback runs during the handshake).
    const names: string[] = [];
    const server = createTlsServer(
      {
        key: selfSigned.key,
        cert: selfSigned.cert,
        SNICallback: (name, cb) => {
          names.push(name);
          cb(null, undefined);
        },
      },
      (socket) => socket.end(),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    started({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
    const port = (server.address() as AddressInfo).port;
    const toLoopback = ((_host: string, options: { all?: boolean }, cb: (e: null, address: unknown, family?: number) => void) =>
      options?.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)) as never;
    await fetchCertificate(new URL(`wss://localhost:${port}/x`), { lookup: toLoopback });
    await fetchCertificate(new URL(`wss://127.0.0.1:${port}/x`));
    expect(names).toEqual(['localhost']);
  });

  it('a name of several parts reads as one line', async () => {
    const named = makeCert({ cn: 'endpoint.test/O=Example Corp/OU=Backup' });
    const s = started(await startTlsServer(named));
    expect((await fetchCertificate(new URL(s.url()))).subject).toBe('CN=endpoint.test, O=Example Corp, OU=Backup');
  });

  it('says when the certificate does not name the host', async () => {
    const other = makeCert({ cn: 'elsewhere', sans: 'DNS:elsewhere.test' });
    const s = started(await startTlsServer(other));
    expect((await fetchCertificate(new URL(s.url()))).hostnameMatches).toBe(false);
  });

  it('refused: Unable to establish connection with host', async () => {
    const port = await closedPort();
    const e = await failure(fetchCertificate(new URL(`wss://127.0.0.1:${port}/x`)));
    expect(e.code).toBe('NETWORK');
    expect(e.message).toBe('Unable to establish connection with host: 127.0.0.1');
    expect(e.hint).toContain(`127.0.0.1:${port} refused the connection`);
  });

  it('DNS failure: Unable to establish connection with host', async () => {
    const lookup = ((host: string, _o: unknown, cb: (e: NodeJS.ErrnoException) => void) => {
      const err: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${host}`);
      err.code = 'ENOTFOUND';
      process.nextTick(() => cb(err));
    }) as never;
    const e = await failure(fetchCertificate(new URL('wss://no-such-host.test/x'), { lookup }));
    expect(e.message).toBe('Unable to establish connection with host: no-such-host.test');
    expect(e.hint).toContain('DNS lookup of no-such-host.test failed (ENOTFOUND)');
  });

  it('timeout before a connection: Unable to establish connection with host', async () => {
    const lookup = (() => {}) as never; // never answers
    const e = await failure(fetchCertificate(new URL('wss://slow.test/x'), { lookup, timeoutMs: 200 }));
    expect(e.code).toBe('NETWORK');
    expect(e.message).toBe('Unable to establish connection with host: slow.test');
    expect(e.hint).toBe(
      "No connection to slow.test:443 within 200 ms. Make sure the WebSocket server's host name (or IP address) and port are correct, that you can reach it, and that DNS lookup works.",
    );
  });

  it('a port that speaks plain TCP: Failed to setup SSL security', async () => {
    const s = started(await startPlainServer('http'));
    const e = await failure(fetchCertificate(new URL(`wss://127.0.0.1:${s.port}/x`)));
    expect(e.code).toBe('NETWORK');
    expect(e.message).toBe('Failed to setup SSL security');
    expect(e.hint).toBe(
      `The TLS handshake with 127.0.0.1:${s.port} failed (the server does not speak TLS). Make sure the WebSocket server has a valid SSL certificate and that the port speaks TLS.`,
    );
  });

  it('a port that accepts and closes at once: Failed to setup SSL security, the server closed the connection', async () => {
    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    started({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
    const port = (server.address() as AddressInfo).port;
    const e = await failure(fetchCertificate(new URL(`wss://127.0.0.1:${port}/x`)));
    expect(e.code).toBe('NETWORK');
    expect(e.message).toBe('Failed to setup SSL security');
    expect(e.hint).toBe(
      `The TLS handshake with 127.0.0.1:${port} failed (the server closed the connection). Make sure the WebSocket server has a valid SSL certificate and that the port speaks TLS.`,
    );
  });

  it('a port that accepts and stays silent: Failed to setup SSL security after the timeout', async () => {
    const s = started(await startPlainServer('silent'));
    const e = await failure(fetchCertificate(new URL(`wss://127.0.0.1:${s.port}/x`), { timeoutMs: 300 }));
    expect(e.code).toBe('NETWORK');
    expect(e.message).toBe('Failed to setup SSL security');
    expect(e.hint).toBe(
      `127.0.0.1:${s.port} accepted the connection but did not complete a TLS handshake within 300 ms. Check that the port speaks TLS (wss://).`,
    );
  });
});
