import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect as connectNet, createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createSecureContext, TLSSocket } from 'node:tls';
import type { Cert } from './certs.js';

export interface TlsServer {
  port: number;
  host: string;
  /** wss:// URL on this server. */
  url(path?: string): string;
  /** Serve another certificate from the next handshake on. */
  setCert(c: Cert, chain?: Cert[]): void;
  /** TCP connections accepted so far. */
  connections: number;
  /** Called as each TCP connection is accepted (1, 2, ...), after its certificate was chosen. */
  onConnection?: (n: number) => void;
  close(): Promise<void>;
}

const track = (server: Server) => {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
};

/**
 * A TLS endpoint on 127.0.0.1 (or ::1) presenting `c` (plus an optional
 * chain). The certificate is chosen when the TCP connection is accepted, so
 * `onConnection` can swap it for the next connection deterministically.
 */
export async function startTlsServer(c: Cert, opts: { host?: string; chain?: Cert[] } = {}): Promise<TlsServer> {
  const host = opts.host ?? '127.0.0.1';
  const ctxFor = (x: Cert, chain: Cert[] = []) => createSecureContext({ key: x.key, cert: [x.cert, ...chain.map((y) => y.cert)].join('') });
  let current = ctxFor(c, opts.chain);
  const server = createNetServer((raw) => {
    result.connections++;
    const tlsSocket = new TLSSocket(raw, { isServer: true, secureContext: current });
    result.onConnection?.(result.connections);
    tlsSocket.on('error', () => {});
    // The client only reads the certificate; end once it has what it came for.
    tlsSocket.on('end', () => tlsSocket.end());
  });
  const result: TlsServer = {
    port: 0,
    host,
    connections: 0,
    url: (path = '/nbwss') => `wss://${host.includes(':') ? `[${host}]` : host}:${result.port}${path}`,
    setCert: (x, chain) => {
      current = ctxFor(x, chain);
    },
    close: track(server),
  };
  await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
  result.port = (server.address() as AddressInfo).port;
  return result;
}

/** A plain TCP server: `silent` accepts and says nothing; otherwise it answers in plain text and closes. */
export async function startPlainServer(mode: 'silent' | 'http'): Promise<{ port: number; close(): Promise<void> }> {
  const server = createNetServer((s) => {
    s.on('error', () => {});
    if (mode === 'http') s.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
  });
  const close = track(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { port: (server.address() as AddressInfo).port, close };
}

/** A port on 127.0.0.1 that nothing listens on. */
export async function closedPort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export interface HttpsServer {
  port: number;
  url(path: string): string;
  /** Requests seen, by path. */
  hits: string[];
  close(): Promise<void>;
}

/** An https server on 127.0.0.1 presenting `c`; `routes` answer by path (without the query string). */
export async function startHttpsServer(
  c: Cert,
  routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void>,
  chain: Cert[] = [],
): Promise<HttpsServer> {
  const server = createHttpsServer({ key: c.key, cert: [c.cert, ...chain.map((x) => x.cert)].join('') }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    result.hits.push(path);
    const route = routes[path];
    if (route) route(req, res);
    else res.writeHead(404).end('not found');
  });
  server.on('tlsClientError', () => {});
  const result: HttpsServer = {
    port: 0,
    hits: [],
    url: (path) => `https://127.0.0.1:${result.port}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  result.port = (server.address() as AddressInfo).port;
  return result;
}

/** An HTTP CONNECT proxy on 127.0.0.1 that tunnels to loopback only and counts tunnels. */
export async function startConnectProxy(): Promise<{ url: string; tunnels: string[]; close(): Promise<void> }> {
  const tunnels: string[] = [];
  const server = createHttpServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const [host, port] = (req.url ?? '').split(':');
    client.on('error', () => {});
    if (host !== '127.0.0.1' && host !== 'localhost') {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    tunnels.push(req.url ?? '');
    const upstream = connectNet(Number(port), '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
  });
  const close = track(server as unknown as Server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, tunnels, close };
}
